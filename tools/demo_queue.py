"""The front-desk queue of the demo database.

Each service centre has a payments counter (شباك 1), a counter for account
requests and technical complaints (شباك 2) and a counter for everything
(شباك 3).  The past working days have their tickets: visitors arriving
through the morning, more in the first hour and at the start of the month,
waits of a few minutes to about an hour, a no-show now and then, so that
Measures --> Queue Waiting Times has something to show.

Both functions run inside a transaction, as tools/demo.py's in_transaction
gives (it also takes the lock that issuing tickets asks for):

    in_transaction(settings, admin, company, demo_queue.setup_counters)
    in_transaction(settings, admin, company,
        lambda: demo_queue.past_tickets(today, seed=seed))
"""
import datetime as dt
import random
from zoneinfo import ZoneInfo

COUNTERS = [
    ("شباك 1", ['payment']),
    ("شباك 2", ['account', 'technical']),
    ("شباك 3", []),
    ]
# service, share of the visitors, minutes of service (low, high)
SERVICES = [
    ('payment', 55, (2, 6)),
    ('account', 20, (5, 15)),
    ('technical', 12, (5, 20)),
    ('connection', 5, (10, 25)),
    ('other', 8, (3, 10)),
    ]
NO_SHOW = 0.05
CANCELLED = 0.02


def _seconds(value):
    return dt.timedelta(seconds=round(value.total_seconds()))


def setup_counters():
    "Three counters at each service centre without any; return how many"
    from trytond.pool import Pool
    pool = Pool()
    Area = pool.get('water.area')
    Counter = pool.get('water.queue.counter')
    equipped = {c.area.id for c in Counter.search([])}
    to_create = [{
            'area': area.id,
            'name': name,
            'services': services,
            }
        for area in Area.search([]) if area.id not in equipped
        for name, services in COUNTERS]
    Counter.create(to_create)
    return len(to_create)


def _working_spans(area, day):
    "The centre's opening spans of the local day, or 08:00-14:00"
    if day in {h.date for h in area.holidays}:
        return []
    spans = [(h.start_time, h.end_time) for h in area.working_hours
        if int(h.weekday) == day.weekday()]
    if not area.working_hours:
        spans = [(dt.time(8), dt.time(14))] if day.weekday() != 4 else []
    return sorted(spans)


def past_tickets(today, days=14, seed=42):
    """The tickets of the working days before today at every centre, served
    at its counters by the cashier and the complaints officer; return how
    many were created"""
    from trytond.pool import Pool
    pool = Pool()
    Area = pool.get('water.area')
    Counter = pool.get('water.queue.counter')
    Ticket = pool.get('water.queue.ticket')
    User = pool.get('res.user')
    if Ticket.search([], limit=1):
        return 0
    rng = random.Random(seed)
    users = {u.login: u.id for u in User.search([
                ('login', 'in', ['cashier', 'complaints', 'admin']),
                ])}
    cashier = users.get('cashier') or users.get('admin')
    officer = users.get('complaints') or cashier
    counters = {}
    for counter in Counter.search([]):
        counters.setdefault(counter.area.id, []).append(counter)
    services = [s for s, _, _ in SERVICES]
    weights = [w for _, w, _ in SERVICES]
    lengths = {s: l for s, _, l in SERVICES}
    utc = ZoneInfo('UTC')
    to_create = []
    for area in Area.search([]):
        if area.id not in counters:
            continue
        tz = ZoneInfo(area.timezone or area.company.timezone or 'UTC')
        for back in range(days, 0, -1):
            day = today - dt.timedelta(days=back)
            for start, end in _working_spans(area, day):
                opening = dt.datetime.combine(day, start)
                minutes = int((dt.datetime.combine(day, end)
                        - opening).total_seconds() // 60)
                # busier at the start of the month and in the first hours
                visitors = rng.randint(35, 60) + (20 if day.day <= 7 else 0)
                # a counter is free again at (local) free[counter id]
                free = {c.id: opening for c in counters[area.id]}
                arrivals = sorted(
                    opening + dt.timedelta(minutes=min(
                            rng.expovariate(1 / (minutes / 4)),
                            minutes - 30))
                    for _ in range(visitors))
                for arrived in arrivals:
                    service, = rng.choices(services, weights)
                    able = [c for c in counters[area.id]
                        if not c.services or service in c.services]
                    counter = min(able, key=lambda c: free[c.id])
                    called = max(arrived, free[counter.id]) + dt.timedelta(
                        minutes=rng.randint(0, 3))
                    low, high = lengths[service]
                    started = called + dt.timedelta(minutes=1)
                    ended = started + dt.timedelta(
                        minutes=rng.randint(low, high))
                    draw = rng.random()
                    state = ('no_show' if draw < NO_SHOW
                        else 'cancelled' if draw < NO_SHOW + CANCELLED
                        else 'done')

                    def utc_of(local):
                        return local.replace(tzinfo=tz).astimezone(
                            utc).replace(tzinfo=None)
                    values = {
                        'company': area.company.id,
                        'area': area.id,
                        'service': service,
                        'arrived_at': utc_of(arrived),
                        'state': state,
                        }
                    if state != 'cancelled':
                        values.update({
                                'counter': counter.id,
                                'served_by': (cashier
                                    if 'payment' in (counter.services or [])
                                    else officer),
                                'called_at': utc_of(called),
                                'waiting_time': _seconds(called - arrived),
                                })
                        free[counter.id] = called + dt.timedelta(minutes=2)
                    if state == 'done':
                        values.update({
                                'started_at': utc_of(started),
                                'ended_at': utc_of(ended),
                                'service_time': _seconds(ended - started),
                                })
                        free[counter.id] = ended
                    to_create.append(values)
    Ticket.create(to_create)
    return len(to_create)
