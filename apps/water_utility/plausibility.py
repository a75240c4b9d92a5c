# This file is part of the water_utility module.  See README.rst.
"""Plausibility rules of meter readings, without the ORM.

The reading model gathers the facts of each reading in a batch and asks
check() which rules it fails; the configuration gives the Rules.
"""
from dataclasses import dataclass
from decimal import Decimal

# The order is the order in which a clerk reads the reasons.
RULES = [
    'note',
    'leak',
    'negative',
    'zero',
    'high',
    'low',
    'date',
    'duplicate',
    ]


@dataclass(frozen=True)
class Rules:
    "Which checks are on, and the bounds of the check on the average"
    note: bool = True
    leak: bool = True
    negative: bool = True
    zero: bool = True
    high: bool = True
    low: bool = True
    date: bool = True
    duplicate: bool = True
    factor: Decimal = Decimal(3)
    margin: Decimal = Decimal(10)


@dataclass(frozen=True)
class Facts:
    """What is known of one reading when it is checked.

    consumption is None when there is no value (a note prevented the read)
    expected is the volume the recent average predicts for the days since
    the previous reading (None without history).
    backwards is True when the register is below the last actual reading
    (an estimate being settled is not backwards).
    """
    consumption: Decimal = None
    expected: Decimal = None
    backwards: bool = False
    active: bool = True
    in_period: bool = True
    duplicate: bool = False
    note_prevents_read: bool = False
    leak: bool = False


def high(consumption, expected, factor, margin):
    "Whether consumption is above expected by the factor and the margin"
    return (consumption > expected * factor
        and consumption - expected > margin)


def low(consumption, expected, factor, margin):
    "Whether consumption is below expected by the factor and the margin"
    return (consumption * factor < expected
        and expected - consumption > margin)


def check(facts, rules):
    "Return the codes of the rules the reading fails, in RULES order"
    failed = set()
    if facts.note_prevents_read or facts.consumption is None:
        failed.add('note')
    if facts.leak:
        failed.add('leak')
    if facts.consumption is not None:
        if facts.backwards:
            failed.add('negative')
        elif facts.consumption == 0 and facts.active:
            failed.add('zero')
        elif facts.expected is not None and facts.consumption > 0:
            if high(facts.consumption, facts.expected,
                    rules.factor, rules.margin):
                failed.add('high')
            elif low(facts.consumption, facts.expected,
                    rules.factor, rules.margin):
                failed.add('low')
    if not facts.in_period:
        failed.add('date')
    if facts.duplicate:
        failed.add('duplicate')
    return [r for r in RULES if r in failed and getattr(rules, r)]
