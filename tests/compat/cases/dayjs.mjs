import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc.js';
import duration from 'dayjs/plugin/duration.js';
import relativeTime from 'dayjs/plugin/relativeTime.js';
dayjs.extend(utc); dayjs.extend(duration); dayjs.extend(relativeTime);
const d = dayjs.utc('2023-03-15T08:09:10Z');
console.log(d.format('YYYY-MM-DD HH:mm:ss dddd'), d.add(1, 'month').endOf('month').format('YYYY-MM-DD'));
console.log(d.diff(dayjs.utc('2023-01-01'), 'day'), d.isBefore('2024-01-01'), d.day(), d.daysInMonth());
console.log(dayjs.duration(3725, 'seconds').format('HH:mm:ss'), dayjs.utc('2020-01-01').from(dayjs.utc('2023-06-01')));
