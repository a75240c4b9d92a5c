"""Requests and complaints of the demo database.

Two teams (the account desk and the maintenance team) led by the manager,
and about one request for every ten subscriptions over the last two
months: most answered (some late), a few repeats closed with their root
cause, and some still open, of which the deadline task escalates the late
ones.  Everything runs inside a transaction of tools/demo.py.
"""
import datetime as dt
import random

DESCRIPTIONS = {
    'BILL': ["الفاتورة أعلى بكثير من المعتاد", "أعترض على قراءة العداد"],
    'STMT': ["أطلب كشف حساب لآخر ستة أشهر"],
    'NAME': ["نقل الاشتراك إلى اسم الوريث"],
    'CAT': ["تحويل الاشتراك من تجاري إلى منزلي"],
    'LEAK': ["تسرب مياه أمام العداد", "تسرب في الخط الرئيسي بالشارع"],
    'NOWTR': ["انقطاع المياه منذ الصباح"],
    'PRESS': ["ضعف ضغط المياه في الطوابق العليا"],
    'METER': ["العداد لا يدور", "زجاج العداد مكسور"],
    'HIGH': ["استهلاك مرتفع دون سبب ظاهر"],
    'QUAL': ["المياه عكرة ولها رائحة"],
    }
ANSWERS = {
    'account': "راجعنا حسابكم وزودناكم بما طلبتم.",
    'technical': "أرسلنا فريق الصيانة وعالج المشكلة في الموقع.",
    }
# (type code, weight)
MIX = [('BILL', 20), ('STMT', 15), ('NAME', 4), ('CAT', 3), ('LEAK', 18),
    ('NOWTR', 10), ('PRESS', 10), ('METER', 8), ('HIGH', 8), ('QUAL', 4)]


def setup_teams():
    """The two teams, their types, and the manager as requests manager;
    return the number of teams created"""
    from trytond.pool import Pool
    pool = Pool()
    Team = pool.get('water.request.team')
    Type = pool.get('water.request.type')
    User = pool.get('res.user')
    Configuration = pool.get('water.configuration')
    if Team.search([], count=True):
        return 0
    users = {u.login: u for u in User.search([
                ('login', 'in', ['manager', 'complaints', 'inspector',
                        'billing'])])}
    manager = users.get('manager')
    account, technical = Team.create([{
                'name': "مكتب الحسابات",
                'manager': manager.id if manager else None,
                'members': [('add', [users[l].id
                            for l in ['complaints', 'billing']
                            if l in users])],
                }, {
                'name': "فريق الصيانة",
                'manager': manager.id if manager else None,
                'members': [('add', [users[l].id for l in ['inspector']
                            if l in users])],
                }])
    types = Type.search([])
    Type.write(
        [t for t in types if t.kind == 'account'], {'team': account.id},
        [t for t in types if t.kind == 'technical'], {'team': technical.id})
    if manager:
        Configuration.write([Configuration(1)],
            {'request_manager': manager.id})
    return 2


def create_requests(today, seed):
    """About one request per ten subscriptions over the last two months;
    return (requests, answered, open)"""
    from trytond.pool import Pool
    pool = Pool()
    Request = pool.get('water.request')
    Type = pool.get('water.request.type')
    Subscription = pool.get('water.subscription')
    User = pool.get('res.user')
    if Request.search([], count=True):
        return 0, 0, 0
    rng = random.Random(seed + 6)
    types = {t.code: t for t in Type.search([])}
    mix = [(types[c], w) for c, w in MIX if c in types]
    subscriptions = Subscription.search([('state', '=', 'active')])
    if not subscriptions or not mix:
        return 0, 0, 0
    officer = User.search([('login', '=', 'complaints')], limit=1)
    now = dt.datetime.now().replace(second=0, microsecond=0)
    start = now - dt.timedelta(days=60)
    count = max(10, len(subscriptions) // 10)
    vlist = []
    for _ in range(count):
        type_ = rng.choices([t for t, _ in mix], [w for _, w in mix])[0]
        subscription = rng.choice(subscriptions)
        # some of the last two days, still in hand
        since = now - dt.timedelta(days=2) if rng.random() < 0.15 else start
        received = since + dt.timedelta(
            minutes=rng.randrange(int((now - since).total_seconds() // 60)))
        # account requests are made at the counter during the day
        if type_.kind == 'account':
            received = received.replace(hour=rng.randrange(6, 11))
        vlist.append({
                'subscription': subscription.id,
                'type': type_.id,
                'channel': rng.choice(
                    ['walk_in', 'walk_in', 'phone', 'phone', 'written']),
                'received': min(received, now),
                'description': rng.choice(DESCRIPTIONS[type_.code]),
                })
    vlist.sort(key=lambda v: v['received'])
    requests = Request.create(vlist)
    # the last two days are still being handled
    recent = now - dt.timedelta(days=2)
    answered = [r for r in requests if r.received < recent]
    open_ = [r for r in requests if r.received >= recent]
    to_write, resolved = [], {}
    for request in answered:
        target = request.target
        # most answered within the target, one in eight late
        factor = rng.uniform(1.1, 2.0) if rng.random() < 0.125 else (
            rng.uniform(0.2, 0.95))
        resolved_at = request.area.deadline(
            request.received, target * factor, request.clock).replace(
            microsecond=0)
        to_write.extend(([request], {
                    'answer': ANSWERS.get(request.kind, ANSWERS['account']),
                    'assignee': officer[0].id if officer else None,
                    }))
        resolved[request.id] = resolved_at
    if to_write:
        Request.write(*to_write)
    Request.resolve(answered)
    # back-date the answers as they happened
    to_write = []
    for request in answered:
        resolved_at = resolved[request.id]
        to_write.extend(([request], {
                    'resolved_at': resolved_at,
                    'response_time': request.area.elapsed(
                        request.received, resolved_at, request.clock),
                    'breached': resolved_at > request.deadline,
                    }))
    if to_write:
        Request.write(*to_write)
    answered = Request.browse(answered)
    to_close = [r for r in answered if r.repeat_of]
    if to_close:
        Request.write(to_close, {
                'root_cause': "تكررت الشكوى لأن الإصلاح الأول كان مؤقتاً: "
                "استُبدلت الوصلة بالكامل"})
    Request.close([r for r in answered if rng.random() < 0.8 or r.repeat_of])
    Request.check_deadlines()
    return len(requests), len(answered), len(open_)
