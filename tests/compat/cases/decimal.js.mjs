import Decimal from 'decimal.js';
console.log(new Decimal(0.1).plus(0.2).toString(), new Decimal(2).sqrt().toFixed(30), new Decimal('1e-7').toString());
Decimal.set({ precision: 50 });
console.log(Decimal.exp(1).toString(), new Decimal(10).pow(25).dividedBy(3).toFixed(5), new Decimal('123.456').toSignificantDigits(4).toString());
