import { addDays, differenceInCalendarDays, format, formatDistanceStrict, isLeapYear, parseISO, startOfWeek, eachDayOfInterval, formatISO } from 'date-fns';
const d = parseISO('2024-02-27T10:30:00Z');
console.log(formatISO(addDays(d, 3), { representation: 'date' }), isLeapYear(d));
console.log(differenceInCalendarDays(parseISO('2024-12-25'), parseISO('2024-01-01')));
console.log(format(new Date(2024, 0, 5, 14, 7), "yyyy-MM-dd HH:mm EEEE do MMMM"));
console.log(formatDistanceStrict(new Date(2024, 0, 1), new Date(2024, 0, 11)));
console.log(format(startOfWeek(new Date(2024, 4, 15), { weekStartsOn: 1 }), 'yyyy-MM-dd'));
console.log(eachDayOfInterval({ start: new Date(2024, 0, 30), end: new Date(2024, 1, 2) }).map((x) => format(x, 'MM/dd')).join(' '));
