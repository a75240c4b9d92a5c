# This file is part of the water_utility module.  See README.rst.
"""Which open bills a payment settles: pure functions, no ORM

A subscriber who pays less than the whole balance settles the oldest bills
first, so that the oldest debt never stays behind a newer one (and the
collection follow-up sees the real age of what is left).  A bill scanned at
the desk may be asked for first.  What is left over after every open bill is
a credit that the next bill uses.
"""
from collections import namedtuple
from decimal import Decimal

Item = namedtuple('Item', ['key', 'date', 'amount'])
Item.__doc__ = "An open bill: key, its date (the older first) and its open amount"

ORDERS = ('oldest', 'newest')


def order_items(items, order='oldest', first=None):
    """Return items in the order a payment settles them

    order: 'oldest' (the oldest date first) or 'newest'; ties by key.
    first: the key of an item to settle before the others (a scanned bill).
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    items = sorted(items, key=lambda i: (i.date, i.key),
        reverse=order == 'newest')
    if first is not None:
        items.sort(key=lambda i: i.key != first)  # stable: keeps the rest
    return items


def allocate(amount, items, order='oldest', first=None):
    """Share amount among the open items

    Return the list of (key, allocated amount) in settling order and the
    remainder (a credit when every item is settled).  Items with nothing
    open are skipped; each item receives at most its open amount; only the
    last item receiving something may stay partly open.
    """
    amount = Decimal(amount)
    if amount < 0:
        raise ValueError("a payment amount cannot be negative")
    allocations = []
    left = amount
    for item in order_items(items, order=order, first=first):
        if left <= 0:
            break
        if item.amount <= 0:
            continue
        part = min(left, Decimal(item.amount))
        allocations.append((item.key, part))
        left -= part
    return allocations, left
