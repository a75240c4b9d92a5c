"""Tariffs, billing runs, payments and deliveries for the demo database.

The tariff is the West Bank unified tariff of January 2024 and the cabinet's
decision of 15 January 2024 (../shared/data/tariffs.md), entered as
configuration records: effective-dated versions with their components, each
posting to its own revenue account.  The months read before this one are
billed by billing runs, as the billing section would: the first demo month
stands for the old system's last month, the next ones are calculated and
posted (or only calculated when their issue date has not come yet); most
subscribers pay at a cash desk and most bills are delivered in the first
week.
"""
import datetime as dt
import random
from decimal import Decimal

TARIFF_CODE = 'WB-2024'
# (name, Arabic name, unit symbol, account name)
PRODUCTS = {
    'water': ("Water consumption", "استهلاك المياه", 'm³',
        "إيرادات بيع المياه"),
    'fixed': ("Monthly meter charge", "رسم العداد الشهري", 'u',
        "إيرادات رسوم العدادات"),
    'sewage': ("Sewage", "الصرف الصحي", 'u', "إيرادات الصرف الصحي"),
    'waste': ("Solid-waste fee (Rafah municipality)",
        "رسوم النفايات الصلبة (بلدية رفح)", 'u',
        "رسوم نفايات محصّلة لحساب بلدية رفح"),
    'welfare': ("Social-welfare discount", "خصم الشؤون الاجتماعية", 'u',
        "خصومات الشؤون الاجتماعية"),
    'reward': ("On-time payment reward", "مكافأة الالتزام بالسداد", 'u',
        "مكافآت الالتزام بالسداد"),
    'penalty': ("Violation penalty", "غرامة المخالفة", 'u',
        "إيرادات غرامات المخالفات"),
    }
DOMESTIC_BLOCKS = [(20, '5.5'), (40, '7.2'), (80, '9.5'), (120, '12'),
    (None, '13')]
# categories priced as commercial: commercial, industrial and tourism use
FLAT = ['commercial', 'industrial', 'government', 'institutional']
PAY_SHARE = 0.85
DELIVERED_SHARE = 0.95


def add_months(date, months):
    month = date.month - 1 + months
    return date.replace(year=date.year + month // 12, month=month % 12 + 1)


def setup_billing(company_id, billing_start):
    """Accounts, products, the tariff and the billing configuration (inside
    a transaction); do nothing when the tariff exists"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Account = pool.get('account.account')
    Category = pool.get('product.category')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    Tariff = pool.get('water.tariff')
    SubscriptionCategory = pool.get('water.subscription.category')
    Area = pool.get('water.area')
    Configuration = pool.get('water.configuration')
    PaymentTerm = pool.get('account.invoice.payment_term')
    PaymentMethod = pool.get('account.invoice.payment.method')
    Journal = pool.get('account.journal')
    Lang = pool.get('ir.lang')
    if Tariff.search([('code', '=', TARIFF_CODE)]):
        return False

    revenue, = Account.search([
            ('type.revenue', '=', True), ('company', '=', company_id),
            ('closed', '!=', True)], limit=1, order=[('code', 'ASC')])
    units = {u.symbol: u for u in Uom.search([('symbol', 'in', ['m³', 'u'])])}
    products = {}
    for key, (name, name_ar, unit, account_name) in PRODUCTS.items():
        account, = Account.create([{
                    'name': account_name,
                    'company': company_id,
                    'type': revenue.type.id,
                    'parent': revenue.parent.id if revenue.parent else None,
                    }])
        category, = Category.create([{
                    'name': name_ar,
                    'accounting': True,
                    'account_revenue': account.id,
                    }])
        template, = Template.create([{
                    'name': name,
                    'type': 'service',
                    'default_uom': units[unit].id,
                    'account_category': category.id,
                    'products': [('create', [{}])],
                    }])
        # the Arabic name is the one printed; English stays the source
        with Transaction().set_context(language='ar'):
            Template.write([template], {'name': name_ar})
        products[key], = template.products
    codes = {c.code: c for c in SubscriptionCategory.search([])}
    rafah, = Area.search([('code', '=', 'RFH')])

    def volume(blocks, categories):
        return {
            'kind': 'volume', 'product': products['water'].id,
            'method': 'progressive',
            'categories': [('add', [codes[c].id for c in categories])],
            'blocks': [('create', [{
                            'upper': None if u is None else Decimal(u),
                            'price': Decimal(p),
                            } for u, p in blocks])],
            }

    def version(start, reference, fixed, flat):
        domestic = [c for c in codes if c not in FLAT]
        return {
            'start_date': start,
            'reference': reference,
            'components': [('create', [
                        volume(DOMESTIC_BLOCKS, domestic),
                        volume([(None, flat)], ['commercial']),
                        volume([(None, '12.5')],
                            [c for c in FLAT if c != 'commercial']),
                        {'kind': 'fixed', 'product': products['fixed'].id,
                            'amount': Decimal(fixed)},
                        {'kind': 'sewage', 'product': products['sewage'].id,
                            'sewage_method': 'percentage',
                            'percentage': Decimal('0.30')},
                        {'kind': 'fee', 'product': products['waste'].id,
                            'amount': Decimal(10),
                            'collected_for': "بلدية رفح",
                            'areas': [('add', [rafah.id])]},
                        {'kind': 'discount',
                            'product': products['welfare'].id,
                            'percentage': Decimal('0.30'),
                            'condition': 'social_welfare',
                            'base': ['volume', 'fixed', 'sewage']},
                        ])],
            }
    tariff, = Tariff.create([{
                'company': company_id,
                'code': TARIFF_CODE,
                'name': "Unified Water Tariff",
                'versions': [('create', [
                            version(dt.date(2024, 1, 1),
                                "نظام التعرفة الموحد، كانون الثاني 2024",
                                42, '12.5'),
                            version(dt.date(2024, 1, 15),
                                "قرار مجلس الوزراء 15/1/2024: رسم العداد "
                                "17 ₪ وسقف التجاري 10 ₪/م³", 17, '10'),
                            ])],
                }])
    with Transaction().set_context(language='ar'):
        Tariff.write([tariff], {'name': "التعرفة الموحدة للمياه"})
    term, = PaymentTerm.create([{
                'name': "30 يوماً من تاريخ الفاتورة",
                'lines': [('create', [{
                                'type': 'remainder',
                                'relativedeltas': [('create', [{
                                                'days': 30}])],
                                }])],
                }])
    arabic, = Lang.search([('code', '=', 'ar')])
    configuration = Configuration(1)
    configuration.tariff = tariff
    configuration.billing_start = billing_start
    configuration.bill_payment_term = term
    configuration.bill_language = arabic
    # charter point 15: 5 % off the next bill after two months paid on
    # time (the demo bills few months; the utility's rule says twelve)
    configuration.reward_enabled = True
    configuration.reward_months = 2
    configuration.reward_kind = 'percentage'
    configuration.reward_percentage = Decimal('0.05')
    configuration.reward_product = products['reward']
    configuration.violation_penalty_product = products['penalty']
    # the settlement policy: at most 10 % off, 10 % down, 12 instalments
    expense, = Account.search([
            ('type.expense', '=', True), ('company', '=', company_id),
            ('closed', '!=', True)], limit=1, order=[('code', 'ASC')])
    configuration.settlement_max_discount = Decimal(10)
    configuration.settlement_min_down_payment = Decimal(10)
    configuration.settlement_max_instalments = 12
    configuration.settlement_grace_days = 5
    configuration.settlement_journal, = Journal.search(
        [('type', '=', 'general')], limit=1)
    configuration.settlement_discount_account = expense
    configuration.save()
    cash_journal, = Journal.search([('type', '=', 'cash')], limit=1)
    cash, = Account.search([('code', '=', '1.1.1'),
            ('company', '=', company_id)], limit=1) or Account.search([
            ('type.statement', '=', 'balance'), ('company', '=', company_id),
            ('party_required', '=', False), ('closed', '!=', True)],
        limit=1)
    PaymentMethod.create([{
                'name': "صندوق مقر الخدمات",
                'company': company_id,
                'journal': cash_journal.id,
                'credit_account': cash.id,
                'debit_account': cash.id,
                }])
    return True


def setup_desks(company_id, today):
    """A cash desk at each service centre with its accounts and statement
    journals, and the demo cashier's day open at the first one (inside a
    transaction)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    StatementJournal = pool.get('account.statement.journal')
    Desk = pool.get('water.cash.desk')
    Session = pool.get('water.cash.session')
    Area = pool.get('water.area')
    User = pool.get('res.user')
    Company = pool.get('company.company')
    if Desk.search([]):
        return 0
    company = Company(company_id)
    cash, = Account.search([('code', '=', '1.1.1'),
            ('company', '=', company_id)], limit=1)
    cash_journal, = Journal.search([('type', '=', 'cash')], limit=1)
    statement, = Journal.search([('type', '=', 'statement')], limit=1)
    names = [
        ('1.1.1.1', "Cash Desks Clearing", "تسوية صناديق الدفع"),
        ('1.1.1.2', "Cheques to Deposit", "شيكات برسم الإيداع"),
        ('1.1.1.3', "Card Settlements", "تسويات البطاقات"),
        ('1.1.1.9', "Cash Differences", "فروقات الصناديق"),
        ]
    accounts = Account.copy([cash] * len(names), default={'parent': cash.id})
    for account, (code, name, _) in zip(accounts, names):
        account.code, account.name = code, name
    Account.save(accounts)
    with Transaction().set_context(language='ar'):
        for account, (_, _, name_ar) in zip(accounts, names):
            Account.write([account], {'name': name_ar})
    clearing, cheques, cards, difference = accounts
    desks = []
    with Transaction().set_context(language='ar'):
        areas = Area.search([('company', '=', company_id)],
            order=[('code', 'ASC')])
    for area in areas:
        journals = StatementJournal.create([{
                    'name': f"{area.centre_name or area.name} — {label}",
                    'journal': statement.id, 'account': account.id,
                    'validation': 'amount', 'company': company_id,
                    'currency': company.currency.id,
                    } for label, account in [("نقد", cash),
                    ("شيكات", cheques), ("بطاقات", cards)]])
        desks.append({
                'name': f"صندوق {area.centre_name or area.name}",
                'company': company_id, 'area': area.id,
                'journal': cash_journal.id,
                'clearing_account': clearing.id,
                'difference_account': difference.id,
                'cash_journal': journals[0].id,
                'cheque_journal': journals[1].id,
                'card_journal': journals[2].id,
                })
    desks = Desk.create(desks)
    cashiers = User.search([('login', '=', 'cashier')], limit=1)
    if cashiers and desks:
        Session.create([{'desk': desks[0].id, 'cashier': cashiers[0].id,
                    'date': today}])
    return len(desks)


def bill_month(month, today):
    """Calculate the billing run of month; post it when its issue date (the
    3rd of the next month) has come.  Return (run id, posted)"""
    from trytond.pool import Pool
    pool = Pool()
    Run = pool.get('water.billing.run')
    issue = add_months(month, 1).replace(day=3)
    run, = Run.create([{'month': month, 'invoice_date': issue}])
    Run.calculate([run])
    return run.id, issue <= today


def post_run(run_id):
    from trytond.pool import Pool
    Run = Pool().get('water.billing.run')
    Run.post([Run(run_id)])


def pay_and_deliver(run_id, today, seed):
    """Most subscribers pay their bill at the cash desk, most bills are
    handed over in the first week (inside a transaction)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Bill = pool.get('water.bill')
    PaymentMethod = pool.get('account.invoice.payment.method')
    rng = random.Random(seed + run_id)
    bills = Bill.search([('run', '=', run_id), ('state', '=', 'posted')])
    method, = PaymentMethod.search([], limit=1)
    delivered = {}
    paid = 0
    for bill in bills:
        issue = bill.issue_date
        if rng.random() < DELIVERED_SHARE:
            # a few reach the subscriber after the deadline
            day = issue + dt.timedelta(days=rng.choice(
                    [1, 1, 2, 2, 3, 3, 4, 5, 6, 9]))
            method_ = rng.choice(['handed', 'handed', 'printed', 'email'])
            if day <= today:
                delivered.setdefault((method_, day), []).append(bill)
        invoice = bill.invoice
        pay_day = issue + dt.timedelta(days=rng.randint(5, 28))
        if (rng.random() < PAY_SHARE and pay_day <= today
                and invoice.amount_to_pay > 0):
            with Transaction().set_context(_skip_warnings=True):
                invoice.pay_invoice(invoice.amount_to_pay, method, pay_day,
                    description="دفعة نقدية")
            paid += 1
    for (method_, day), group in delivered.items():
        Bill.record_delivery(group, method_, day)
    return len(bills), paid, sum(len(g) for g in delivered.values())
