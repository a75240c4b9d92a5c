# This file is part of the water_utility module.  See README.rst.
"""The schedule of a settlement's instalments: pure functions, no ORM

What the subscriber still owes after the discount and the down payment is
split into equal monthly instalments rounded to the currency; the rounding
remainder goes on the last one, so that the instalments, the down payment
and the discount add up to the debt to the cent.  Each instalment falls due
on a given day of its month (the day the month's bill is due).
"""
import calendar
import datetime as dt
from collections import namedtuple
from decimal import ROUND_DOWN, Decimal

Instalment = namedtuple('Instalment', ['sequence', 'date', 'amount'])


def due_date(first_month, index, day):
    "The due date of the index-th month after first_month (0: itself)"
    month = first_month.month - 1 + index
    year = first_month.year + month // 12
    month = month % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day, last))


def schedule(debt, discount, down_payment, count, first_month, day,
        quantum=Decimal('0.01')):
    """Return the list of Instalment (sequence from 1, due date, amount)

    debt - discount - down_payment is split in count monthly instalments,
    each rounded down to quantum, the remainder on the last one.
    """
    debt, discount, down_payment = (
        Decimal(debt), Decimal(discount), Decimal(down_payment))
    if count < 1:
        raise ValueError("a settlement has at least one instalment")
    if not 1 <= day <= 31:
        raise ValueError(f"no day {day} in a month")
    if discount < 0 or down_payment < 0:
        raise ValueError("neither the discount nor the down payment can be "
            "negative")
    rest = debt - discount - down_payment
    if rest < 0:
        raise ValueError("the discount and the down payment exceed the debt")
    amount = (rest / count).quantize(quantum, rounding=ROUND_DOWN)
    instalments = []
    for index in range(count):
        if index == count - 1:
            amount = rest - amount * (count - 1)
        instalments.append(Instalment(
                index + 1, due_date(first_month, index, day), amount))
    return instalments
