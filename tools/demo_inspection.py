"""Field work orders of the demo database.

This month's high consumption readings go to the inspection section: their
work orders are scheduled to the demo inspector for today and tomorrow,
the first one started.  One meter found running fast since two readings
ago (or slow, as its readings suggest) is replaced and its consumption
re-estimated, so that the demo shows a
done work order with its meter swap and its credit on the subscriber's
account.  Everything runs inside a transaction of tools/demo.py.
"""
import datetime as dt
from decimal import Decimal


def create_work_orders(today):
    """Return (work orders opened from readings, scheduled, done with a
    re-estimation)"""
    from trytond.pool import Pool
    pool = Pool()
    Reading = pool.get('water.reading')
    Inspection = pool.get('water.inspection')
    User = pool.get('res.user')
    Meter = pool.get('water.meter')
    if Inspection.search([], count=True):
        return 0, 0, 0
    inspectors = User.search([('login', '=', 'inspector')])
    held = [r for r in Reading.search([
                ('state', '=', 'held'),
                ('value', '!=', None),
                ], order=[('date', 'DESC'), ('id', 'ASC')])
        if 'high' in r.exceptions][:6]
    Reading.inspect(held)
    orders = Inspection.search([('state', '=', 'draft')],
        order=[('id', 'ASC')])
    for i, order in enumerate(orders):
        order.planned_date = today + dt.timedelta(days=i % 2)
        order.inspectors = inspectors
    Inspection.save(orders)
    scheduled = [o for o in orders if o.inspectors]
    Inspection.schedule(scheduled)
    if scheduled:
        Inspection.start(scheduled[:1])

    # a meter that has run fast since two readings ago
    done = 0
    stock = Meter.search([('state', '=', 'in_stock')], limit=1)
    candidates = Reading.search([
            ('state', 'in', ['valid', 'billed']),
            ('source', '!=', 'estimate'),
            ('subscription.state', '=', 'active'),
            ('subscription.category.code', '=', 'domestic'),
            ], order=[('subscription', 'ASC'), ('date', 'DESC')], limit=400)
    # the last reading of the subscription is counted: none waits after it
    waiting = {r.subscription for r in Reading.search([
                ('subscription', 'in', list({
                            r.subscription.id for r in candidates})),
                ('state', 'not in', ['valid', 'billed', 'cancelled']),
                ])}
    by_subscription = {}
    for reading in candidates:
        by_subscription.setdefault(reading.subscription, []).append(reading)
    for subscription, readings in by_subscription.items():
        if (len(readings) >= 3 and stock and subscription.meter
                and subscription not in waiting):
            fault_since = readings[1].date - dt.timedelta(days=1)
            visit = max(today, readings[0].date + dt.timedelta(days=1))
            order, = Inspection.create([{
                        'company': subscription.company.id,
                        'type': 'meter',
                        'subscription': subscription.id,
                        'description': "فحص دقة العداد في الموقع بعد "
                        "تغير مفاجئ في الاستهلاك",
                        'planned_date': visit,
                        'inspectors': [('add', [u.id for u in inspectors])],
                        }])
            if inspectors:
                Inspection.schedule([order])
            else:
                Inspection.write([order], {'state': 'scheduled'})
            Inspection.start([order])
            register = readings[0].value + Decimal(3)
            # what the re-estimation will find decides what the test showed
            daily = [(r.consumption or 0) / (r.days or 1) for r in readings]
            fast = min(daily[:2]) >= daily[2]
            Inspection.write([order], {
                    'visit_date': visit,
                    'meter_condition': 'fast' if fast else 'slow',
                    'accuracy': Decimal('135.0' if fast else '70.0'),
                    'seal': 'intact',
                    'meter_reading': register,
                    'latitude': Decimal('31.516200'),
                    'longitude': Decimal('34.448900'),
                    'findings': ("العداد يسجل أكثر من الفعلي بنسبة 35% "
                        if fast else "العداد يسجل أقل من الفعلي بنسبة 30% ")
                    + "في فحص الدقة بالموقع",
                    'actions': "استبدال العداد وإعادة تقدير الاستهلاك",
                    'outcome': 'faulty',
                    'fault_since': fault_since,
                    'new_meter': stock[0].id,
                    'new_meter_reading': Decimal(0),
                    'removal_reason': 'faulty',
                    })
            Inspection.do([Inspection(order.id)])
            done = 1
            break
    return len(orders), len(scheduled), done


def create_maintenance(today):
    """The meter test cycles (ten years for the small meters, five for
    the large ones) and a plan per area run once: return the work orders
    opened"""
    from trytond.pool import Pool
    pool = Pool()
    Cycle = pool.get('water.maintenance.cycle')
    Plan = pool.get('water.maintenance.plan')
    Area = pool.get('water.area')
    User = pool.get('res.user')
    if Plan.search([], count=True):
        return 0
    Cycle.create([{'diameter': d, 'years': y} for d, y in [
                (None, 10), ('40', 5), ('50', 5), ('80', 4), ('100', 4),
                ('150', 4)]])
    inspectors = User.search([('login', '=', 'inspector')])
    plans = Plan.create([{
                'area': area.id,
                'capacity': 8,
                'daily_orders': 4,
                'lead_days': 30,
                'inspectors': [('add', [u.id for u in inspectors])],
                } for area in Area.search([])])
    orders = Plan.generate(plans)
    remove_meter(today)
    return len(orders)


def remove_meter(today):
    "A meter stolen today, not replaced yet: the removed meters list shows it"
    from trytond.pool import Pool
    from trytond.modules.water_utility.meter import MeterSwap
    pool = Pool()
    Reading = pool.get('water.reading')
    Installation = pool.get('water.meter.installation')
    Inspection = pool.get('water.inspection')
    # not one the field already visits or changed the meter of
    busy = {i.subscription for i in Inspection.search([
                ('subscription', '!=', None),
                ])}
    for reading in Reading.search([
                ('subscription.state', '=', 'active'),
                ('state', '!=', 'cancelled'),
                ('value', '!=', None),
                ], order=[('subscription', 'ASC'), ('date', 'DESC')],
            limit=100):
        subscription = reading.subscription
        if subscription in busy or not subscription.meter:
            continue
        Installation.swap([MeterSwap(
                    subscription=subscription,
                    date=max(today, reading.date),
                    final_reading=reading.value,
                    removal_reason='stolen',
                    notes="سُرق العداد، أبلغ المشترك مركز الخدمة")])
        return 1
    return 0


def create_violations(today):
    """The penalty policy and three violations: a bypass notified with
    its invoice, a seal tampering documented and priced, an illegal
    connection of a neighbour cut; return their number"""
    from trytond.pool import Pool
    pool = Pool()
    Violation = pool.get('water.violation')
    Penalty = pool.get('water.violation.penalty')
    Subscription = pool.get('water.subscription')
    Party = pool.get('party.party')
    if Violation.search([], count=True):
        return 0
    Penalty.create([
            {'type': 'illegal_connection', 'fixed_amount': Decimal(500),
                'percentage': Decimal(50)},
            {'type': 'bypass', 'fixed_amount': Decimal(300),
                'percentage': Decimal(50)},
            {'type': 'meter_tampering', 'fixed_amount': Decimal(300),
                'percentage': Decimal(25)},
            {'type': 'seal_tampering', 'fixed_amount': Decimal(100),
                'percentage': Decimal(0)},
            {'type': 'reconnection', 'fixed_amount': Decimal(200),
                'percentage': Decimal(0)},
            {'type': 'category_misuse', 'fixed_amount': Decimal(0),
                'percentage': Decimal(25)},
            ])
    subscriptions = Subscription.search([
            ('state', '=', 'active'),
            ('category.code', '=', 'domestic'),
            ], order=[('id', 'DESC')], limit=2)
    if len(subscriptions) < 2:
        return 0
    bypass_of, seal_of = subscriptions
    neighbour, = Party.create([{
                'name': "خالد يوسف البنا",
                'addresses': [('create', [{
                                'street': bypass_of.address.street,
                                'city': bypass_of.address.city,
                                }])],
                }])
    found = today - dt.timedelta(days=3)
    common = {
        'company': bypass_of.company.id,
        'found_date': found,
        'start_date': found - dt.timedelta(days=90),
        'latitude': Decimal('31.501400'),
        'longitude': Decimal('34.466100'),
        'witnesses': "مختار الحي؛ مفتش ثانٍ من القسم",
        }
    bypass, seal, illegal = Violation.create([dict(common,
                type='bypass',
                subscription=bypass_of.id,
                party=bypass_of.party.id,
                area=bypass_of.area.id,
                category=bypass_of.category.id,
                location=bypass_of.address.rec_name,
                facts="خط جانبي قبل العداد يغذي خزان السطح مباشرة",
                statement="أقر بوجود الخط وأطلب تسوية المبلغ",
                ), dict(common,
                type='seal_tampering',
                subscription=seal_of.id,
                party=seal_of.party.id,
                area=seal_of.area.id,
                category=seal_of.category.id,
                location=seal_of.address.rec_name,
                facts="ختم العداد مكسور ولا أثر لعبث بالعداد نفسه",
                start_date=found - dt.timedelta(days=30),
                ), dict(common,
                type='illegal_connection',
                party=neighbour.id,
                area=bypass_of.area.id,
                category=bypass_of.category.id,
                location=bypass_of.address.rec_name,
                facts="وصلة غير قانونية من الخط الرئيسي إلى منزل مجاور "
                "بلا اشتراك",
                )])
    Violation.price([bypass, seal, illegal])
    Violation.notify([bypass])
    Violation.cut([illegal])
    return 3
