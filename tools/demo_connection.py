"""New connection applications of the demo database.

The fee of a new connection (350 ₪ for the first 10 metres of service line,
12.50 ₪ a metre beyond) and a dozen applications at every step: drafts,
applications waiting for the survey (late), surveyed, invoiced,
paid, installed, active and rejected.  Call setup_connections() then
create_applications(today), each inside a transaction (demo.in_transaction),
after the billing setup (its cash payment method pays the fees).
"""
import datetime as dt
import random
from decimal import Decimal

FEE = Decimal('350')
FREE_LENGTH = Decimal(10)
METRE_PRICE = Decimal('12.50')

APPLICANTS = [
    "سامي خليل النجار", "منى سعيد الأغا", "عماد يوسف أبو شمالة",
    "هالة محمود الفرا", "رائد إبراهيم شراب", "سناء عبد الله البطة",
    "وليد حسن المصري", "ريم أحمد الحلو", "نادر فتحي قديح",
    "عبير جمال أبو طير", "مؤسسة الأمل للتجارة", "جمعية الإحسان الخيرية",
    ]
LANDMARKS = ["المسجد", "المدرسة", "السوق", "العيادة"]
# the step each application reaches, in the order of APPLICANTS
STEPS = ['draft', 'applied', 'applied', 'surveyed', 'estimated',
    'estimated', 'paid', 'installed', 'active', 'active', 'active',
    'rejected']


def setup_connections():
    """The fee's products and accounts and the configuration (inside a
    transaction); do nothing when the fee is configured already"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Account = pool.get('account.account')
    Category = pool.get('product.category')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    Configuration = pool.get('water.configuration')
    configuration = Configuration(1)
    if configuration.connection_fee_product:
        return False
    company = Transaction().context['company']
    revenue, = Account.search([
            ('type.revenue', '=', True), ('company', '=', company),
            ('closed', '!=', True)], limit=1, order=[('code', 'ASC')])
    account, = Account.create([{
                'name': "New connection revenue",
                'company': company,
                'type': revenue.type.id,
                'parent': revenue.parent.id if revenue.parent else None,
                }])
    with Transaction().set_context(language='ar'):
        Account.write([account], {'name': "إيرادات الاشتراكات الجديدة"})
    category, = Category.create([{
                'name': "الاشتراكات الجديدة",
                'accounting': True,
                'account_revenue': account.id,
                }])
    unit, = Uom.search([('symbol', '=', 'u')])
    products = []
    for name, name_ar in [
            ("New connection fee", "رسم اشتراك جديد"),
            ("Service line beyond the free length", "تمديد خط الخدمة")]:
        template, = Template.create([{
                    'name': name,
                    'type': 'service',
                    'default_uom': unit.id,
                    'account_category': category.id,
                    'products': [('create', [{}])],
                    }])
        with Transaction().set_context(language='ar'):
            Template.write([template], {'name': name_ar})
        products.extend(template.products)
    fee, extra = products
    configuration.connection_fee_product = fee
    configuration.connection_fee = FEE
    configuration.connection_length_product = extra
    configuration.connection_free_length = FREE_LENGTH
    configuration.connection_length_price = METRE_PRICE
    configuration.save()
    return True


def create_applications(today, seed=42):
    """A dozen applications at every step, received over the last three
    weeks (inside a transaction); return the count by state"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Area = pool.get('water.area')
    Connection = pool.get('water.connection')
    Category = pool.get('water.subscription.category')
    Meter = pool.get('water.meter')
    PaymentMethod = pool.get('account.invoice.payment.method')
    Line = pool.get('account.move.line')
    if Connection.search([], limit=1):
        return {}
    rng = random.Random(seed)
    company = Transaction().context['company']
    areas = Area.search([('company', '=', company)])
    categories = {c.code: c for c in Category.search([])}
    now = dt.datetime.combine(today, dt.time(7, 30))
    connections = []
    for i, (name, step) in enumerate(zip(APPLICANTS, STEPS)):
        area = areas[i % len(areas)]
        code = ('commercial' if name.startswith("مؤسسة")
            else 'charitable' if name.startswith("جمعية") else 'domestic')
        # the further the step, the older the application
        age = dt.timedelta(days=1 + 2 * i + rng.randint(0, 2),
            hours=rng.randint(0, 5))
        connections.append(Connection(
                company=company, area=area, category=categories[code],
                applicant_name=name,
                phone=f'+97059{rng.randint(1000000, 9999999)}',
                site=f"{area.name}، قرب {rng.choice(LANDMARKS)}",
                diameter='20' if code != 'domestic' else '15',
                sewage=rng.random() < 0.7,
                channel=rng.choice(['walk_in', 'walk_in', 'phone', 'written',
                        'portal']),
                received=now - age))
    Connection.save(connections)
    by_step = dict(zip(connections, STEPS))

    def reaching(*states):
        return [c for c in connections if by_step[c] in states]
    done = ['applied', 'surveyed', 'estimated', 'paid', 'installed',
        'active', 'rejected']
    Connection.apply(reaching(*done))
    for connection in reaching(*done[1:]):
        connection.distance = Decimal(rng.randint(4, 30))
        connection.feasibility = (
            'not_feasible' if by_step[connection] == 'rejected'
            else 'feasible')
        connection.findings = (
            "لا يوجد خط رئيسي قريب" if by_step[connection] == 'rejected'
            else "الخط الرئيسي في الشارع، لا عوائق")
    Connection.save(reaching(*done[1:]))
    Connection.survey(reaching(*done[1:]))
    rejected = reaching('rejected')
    for connection in rejected:
        connection.rejection_reason = (
            "لا يوجد خط رئيسي على بعد أقل من 500 متر من الموقع")
    Connection.save(rejected)
    Connection.reject(rejected)
    Connection.estimate(reaching(*done[2:-1]))

    paid = reaching('paid', 'installed', 'active')
    method, = PaymentMethod.search([], limit=1)
    for connection in paid:
        invoice = connection.invoice
        with Transaction().set_context(_skip_warnings=True):
            lines = invoice.pay_invoice(invoice.amount_to_pay, method,
                today, description="رسم اشتراك جديد")
        Line.reconcile(list(invoice.lines_to_pay) + list(lines))
    Connection.check_payment(paid)

    installed = reaching('installed', 'active')
    meters = Meter.create([{
                'company': company,
                'serial': f'NC-{today:%Y}-{i:04d}',
                'make': "Itron",
                'diameter': c.diameter,
                } for i, c in enumerate(installed, 1)])
    for connection, meter in zip(installed, meters):
        connection.meter = meter
        connection.install_date = today
        connection.initial_reading = Decimal(0)
        connection.route = connection.area.routes[0]
        connection.route_position = 9000 + meter.id
    Connection.save(installed)
    Connection.install(installed)
    Connection.activate(reaching('active'))
    counts = {}
    for connection in Connection.browse(connections):
        counts[connection.state] = counts.get(connection.state, 0) + 1
    return counts
