# This file is part of the water_utility module.  See README.rst.
"""Pure pricing of a water bill: tariff components applied to a month.

The billing models turn tariff versions into Charges and call rate();
nothing here knows the ORM, so tests/test_rating.py can prove the rules for
any tariff.

Proration.  When a tariff version changes inside the time a bill covers,
each version prices the share of its days:

- the volume (blocks, sewage per m³) and the percentages over the days of
  the consumption, weight = days of the version / days read.  Block limits
  are monthly, so a share w of the volume meets limits scaled by w, which
  is the same as pricing the whole volume and taking the share w of each
  block's quantity;
- fixed charges, fees and the minimum over the calendar month, weight =
  days of the version the subscription was connected / days of the month:
  a subscription that starts or closes inside the month pays its share.

Fractions stay exact until the lines are merged (one line per product and
price), then quantities are rounded to the unit and amounts to the currency
as Tryton rounds an invoice line (half even): a constant tariff split in any
number of segments gives the very same bill.
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

VOLUME = 'volume'
MINIMUM = 'minimum'
FIXED = 'fixed'
SEWAGE = 'sewage'
FEE = 'fee'
DISCOUNT = 'discount'
# the order of the lines on the bill
KINDS = (VOLUME, MINIMUM, FIXED, SEWAGE, FEE, DISCOUNT)
# what a discount applies to unless told otherwise
DISCOUNT_BASE = frozenset({VOLUME, MINIMUM, FIXED, SEWAGE})


class TariffError(ValueError):
    "A tariff that cannot price a bill"


@dataclass(frozen=True)
class Block:
    """A block of an increasing-block tariff: the m³ up to upper (None for
    the last, open block) cost price each"""
    upper: Decimal | None
    price: Decimal


@dataclass(frozen=True)
class Charge:
    """A component of a tariff version as the engine sees it

    kind is one of KINDS; product is what the line posts to (its revenue
    account), also the identity under which lines of segments merge.
    """
    kind: str
    product: object
    blocks: tuple = ()
    # whole volume at the reached block's price instead of block by block
    whole: bool = False
    # per month: fixed charge, fee, minimum charge
    amount: Decimal = Decimal(0)
    # per m³: sewage by volume
    price: Decimal = Decimal(0)
    # a fraction of the base (0.3 is 30 %): sewage, discount
    percentage: Decimal = Decimal(0)
    base: frozenset = DISCOUNT_BASE


@dataclass(frozen=True)
class Segment:
    "The charges of one tariff version and its days"
    charges: tuple
    days: int


@dataclass(frozen=True)
class Line:
    "A priced line of the bill"
    kind: str
    product: object
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    # volume lines: the block (1-based) and its monthly limits
    block: int | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    # percentage lines: the (day-weighted) percentage and the base
    percentage: Decimal | None = None
    base: Decimal | None = None
    # fixed charges, fees and the minimum: days charged
    days: int | None = None
    # volume re-priced because an actual reading replaced an estimate
    settlement: bool = False


@dataclass
class _Acc:
    "A line being accumulated exactly"
    kind: str
    product: object
    unit_price: Fraction = Fraction(0)
    quantity: Fraction = Fraction(0)
    amount: Fraction = Fraction(0)
    block: int | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    percentage: Fraction = Fraction(0)
    days: int = 0
    settlement: bool = False
    order: tuple = field(default_factory=tuple)


def check_blocks(blocks):
    """Raise TariffError unless blocks are increasing: limits grow, the
    last block is open and prices never decrease (more water never costs
    less)"""
    if not blocks:
        raise TariffError("a volume charge needs at least one block")
    lower, price = Decimal(0), None
    for i, block in enumerate(blocks):
        last = i == len(blocks) - 1
        if block.upper is None and not last:
            raise TariffError("only the last block is open")
        if block.upper is not None and block.upper <= lower:
            raise TariffError("block limits must increase")
        if block.price < 0 or (price is not None and block.price < price):
            raise TariffError("block prices must not decrease")
        lower, price = block.upper, block.price
    if blocks[-1].upper is not None:
        raise TariffError("the last block must be open")


def block_quantities(charge, quantity):
    """Return (block, lower, upper, quantity, price) of a volume charge for
    quantity m³ (an exact Fraction)

    Block by block, each block's m³ at its price; or, with whole, the whole
    quantity at the price of the block it reaches.
    """
    quantity = Fraction(quantity)
    result, lower = [], Decimal(0)
    for i, block in enumerate(charge.blocks, 1):
        upper = block.upper
        reached = upper is None or quantity <= Fraction(upper)
        if charge.whole:
            if reached:
                if quantity > 0:
                    result.append((i, lower, upper, quantity, block.price))
                return result
        else:
            top = quantity if reached else Fraction(upper)
            if top > Fraction(lower):
                result.append(
                    (i, lower, upper, top - Fraction(lower), block.price))
            if reached:
                return result
        lower = upper
    return result


def _weights(segments):
    days = sum(s.days for s in segments)
    if any(s.days < 0 for s in segments) or (segments and days <= 0):
        raise TariffError("segments need days")
    return [(s, Fraction(s.days, days)) for s in segments]


def _round(value, quantum):
    "Round an exact value as Tryton rounds amounts (half even)"
    quantum = Decimal(quantum)
    value = Fraction(value) / Fraction(quantum)
    whole = round(value)  # Python rounds halves to even
    return (Decimal(whole) * quantum).quantize(quantum)


def _cumulative(lines, quantum):
    """Round the quantities of lines so that they sum to the rounded sum of
    the exact quantities (no litre is lost or added by rounding)"""
    done, total = Decimal(0), Fraction(0)
    for acc in lines:
        total += acc.quantity
        upto = _round(total, quantum)
        yield acc, upto - done
        done = upto


def _by_volume(accs, charges, weight, quantity, sign=1, settlement=False):
    "Accumulate the volume blocks and the sewage by m³ of quantity"
    for charge in charges:
        if charge.kind == VOLUME:
            for block, lower, upper, qty, price in block_quantities(
                    charge, quantity):
                key = (VOLUME, charge.product, price, settlement)
                # in date order: the versions' order, block by block
                acc = accs.setdefault(key, _Acc(VOLUME, charge.product,
                        unit_price=Fraction(price), block=block,
                        lower=lower, upper=upper, settlement=settlement,
                        order=(len(accs),)))
                acc.quantity += sign * qty * weight
        elif charge.kind == SEWAGE and charge.price:
            key = (SEWAGE, charge.product, charge.price, settlement)
            acc = accs.setdefault(key, _Acc(SEWAGE, charge.product,
                    unit_price=Fraction(charge.price),
                    settlement=settlement, order=(len(accs),)))
            acc.quantity += sign * quantity * weight


def rate(volume_segments, consumption, fixed_segments=(), month_days=None,
        quantum=Decimal('0.001'), rounding=Decimal('0.01'),
        settlements=()):
    """Return the Lines of a bill

    volume_segments: the Segments over the days of the consumption (their
    volume, minimum-free percentages: sewage, discounts);
    consumption: the m³ read (not negative);
    fixed_segments: the Segments over the days of the calendar month the
    subscription was connected (fixed charges, fees, minimum), month_days
    the days of that month;
    quantum: the rounding of quantities (the unit's); rounding: the
    currency's;
    settlements: (segments, billed, actual) of months billed on an estimate
    that an actual reading replaced: their volume is priced again at their
    own tariff, actual m³ instead of billed m³.
    """
    quantity = Fraction(consumption)
    if quantity < 0:
        raise TariffError("consumption must not be negative")
    weights = _weights(list(volume_segments))
    fixed_segments = list(fixed_segments)
    if fixed_segments and not month_days:
        raise TariffError("fixed charges need the days of the month")

    accs = {}
    for segment, weight in weights:
        _by_volume(accs, segment.charges, weight, quantity)
    for segments, billed, actual in settlements:
        for segment, weight in _weights(list(segments)):
            # what the actual m³ cost less what the billed m³ cost
            _by_volume(accs, segment.charges, weight, Fraction(actual),
                settlement=True)
            _by_volume(accs, segment.charges, weight, Fraction(billed),
                sign=-1, settlement=True)
    minimum = {}
    for segment in fixed_segments:
        share = Fraction(segment.days, month_days)
        for charge in segment.charges:
            if charge.kind in {FIXED, FEE}:
                key = (charge.kind, charge.product, charge.amount, False)
                # in date order: the versions' order
                acc = accs.setdefault(key, _Acc(charge.kind, charge.product,
                        order=(len(accs),)))
                acc.amount += Fraction(charge.amount) * share
                acc.days += segment.days
            elif charge.kind == MINIMUM:
                acc = minimum.setdefault(MINIMUM, _Acc(MINIMUM,
                        charge.product))
                acc.amount += Fraction(charge.amount) * share
                acc.days += segment.days

    lines = []

    def add(acc, quantity, unit_price, amount, **extra):
        lines.append(Line(acc.kind, acc.product, quantity, unit_price,
                amount, block=acc.block, lower=acc.lower, upper=acc.upper,
                days=acc.days or None, settlement=acc.settlement, **extra))

    def by_kind(kind):
        return sorted((a for a in accs.values() if a.kind == kind),
            key=lambda a: a.order)

    # volume and sewage by m³: the rounded m³ of a kind add up to the
    # rounded total, and each amount is its m³ times its price
    for kind in [VOLUME, SEWAGE]:
        for settlement in [False, True]:
            group = [a for a in by_kind(kind) if a.settlement == settlement]
            for acc, qty in _cumulative(group, quantum):
                if not qty:
                    continue
                price = Decimal(acc.unit_price.numerator) / Decimal(
                    acc.unit_price.denominator)
                add(acc, qty, price, _round(Fraction(qty) * acc.unit_price,
                        rounding))
    water = sum((l.amount for l in lines if l.kind == VOLUME), Decimal(0))
    if MINIMUM in minimum:
        acc = minimum[MINIMUM]
        top_up = _round(acc.amount, rounding) - sum(
            (l.amount for l in lines
                if l.kind == VOLUME and not l.settlement), Decimal(0))
        if top_up > 0:
            add(acc, Decimal(1), top_up, top_up)
            water += top_up
    for kind in [FIXED, FEE]:
        for acc in by_kind(kind):
            amount = _round(acc.amount, rounding)
            if amount:
                add(acc, Decimal(1), amount, amount)

    def percentages(kind):
        result = {}
        for segment, weight in weights:
            for charge in segment.charges:
                if charge.kind == kind and charge.percentage:
                    key = (charge.product, charge.base)
                    result[key] = result.get(key, Fraction(0)) + (
                        Fraction(charge.percentage) * weight)
        return result

    for (product, _), percentage in percentages(SEWAGE).items():
        acc = _Acc(SEWAGE, product)
        amount = _round(Fraction(water) * percentage, rounding)
        if amount:
            add(acc, Decimal(1), amount, amount,
                percentage=_decimal(percentage), base=water)
    for (product, base_kinds), percentage in percentages(DISCOUNT).items():
        if DISCOUNT in base_kinds:
            raise TariffError("a discount cannot apply to discounts")
        base = sum((l.amount for l in lines if l.kind in base_kinds),
            Decimal(0))
        amount = -_round(Fraction(base) * percentage, rounding)
        if amount:
            add(_Acc(DISCOUNT, product), Decimal(1), amount, amount,
                percentage=_decimal(percentage), base=base)
    order = {k: i for i, k in enumerate(KINDS)}
    lines.sort(key=lambda l: (order[l.kind], l.settlement))
    return lines


def _decimal(fraction):
    return (Decimal(fraction.numerator) / Decimal(fraction.denominator)
        ).quantize(Decimal('0.0001'))


def total(lines):
    "Return the amount of the lines"
    return sum((l.amount for l in lines), Decimal(0))


def days_by_version(versions, start, end):
    """Share the days from start (excluded) to end (included) between
    tariff versions

    versions lists (start_date, version) in date order; returns
    [(version, days)] for the versions in force, in date order.  Days before
    the first version are not covered (the caller holds such a bill).
    """
    result = []
    for i, (since, version) in enumerate(versions):
        until = versions[i + 1][0] if i + 1 < len(versions) else None
        # days d with start < d <= end, since <= d < until
        first = max(start, since - dt.timedelta(days=1))
        last = end if until is None else min(end, until - dt.timedelta(days=1))
        days = (last - first).days
        if days > 0:
            result.append((version, days))
    return result


def uncovered_days(versions, start, end):
    "Return the days from start (excluded) to end not covered by versions"
    return (end - start).days - sum(d for _, d in days_by_version(
            versions, start, end))

