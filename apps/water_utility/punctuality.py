# This file is part of the water_utility module.  See README.rst.
"""Pure rules of the reward of on-time payers (charter point 15)

A subscription earns a reward for a window of N bill months when each
month of the window has a posted bill and every bill of the window was paid
by its due date.  The reward is a percentage of the next bill's charges
before tax or a fixed credit, never more than those charges.  Nothing here
knows the ORM: tests/test_reward.py proves the rules for any input.
"""
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

PERCENTAGE = 'percentage'
FIXED = 'fixed'


def add_months(date, months):
    "The date months later (earlier if negative), the day kept"
    month = date.month - 1 + months
    return date.replace(year=date.year + month // 12, month=month % 12 + 1)


def window(month, months):
    """The first and last day of the window of months bill months that ends
    with the month of month"""
    end_month = month.replace(day=1)
    start = add_months(end_month, -(months - 1))
    end = add_months(end_month, 1) - dt.timedelta(days=1)
    return start, end


def window_months(month, months):
    "The first days of the bill months of the window, oldest first"
    start, _ = window(month, months)
    return [add_months(start, i) for i in range(months)]


def paid_on_time(due_date, paid_date):
    """A bill is paid on time when it was paid in full (paid_date, the date
    of the reconciliation of its receivable) on or before its due date"""
    return (due_date is not None and paid_date is not None
        and paid_date <= due_date)


def eligible(bills, months):
    """Whether the bills earn the reward of the window of months

    bills: (month, due date, paid date or None) of every posted bill of the
    subscription in the window; months: the first days of the months of
    the window.  Every month needs a bill and every bill paid on time.
    """
    bills = list(bills)
    billed = {m for m, _, _ in bills}
    return (bool(months) and set(months) <= billed
        and all(paid_on_time(d, p) for _, d, p in bills))


def reward_amount(kind, value, charges, rounding=Decimal('0.01')):
    """The reward deducted from a bill whose charges before tax are charges

    kind PERCENTAGE: value is a fraction (0.05 is 5 %) of the charges;
    FIXED: value is an amount.  Never below zero nor above the charges: a
    bill never goes negative because of a reward.
    """
    if charges is None or charges <= 0 or value is None or value <= 0:
        return Decimal(0)
    if kind == PERCENTAGE:
        amount = charges * value
    else:
        amount = value
    amount = (amount / rounding).quantize(
        Decimal(1), rounding=ROUND_HALF_EVEN) * rounding
    return max(min(amount, charges), Decimal(0))
