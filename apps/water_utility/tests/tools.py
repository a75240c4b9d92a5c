# This file is part of the water_utility module.  See README.rst.
"Helpers for the scenarios, in the manner of account/tests/tools.py"
import datetime as dt
from decimal import Decimal
from functools import partial

import time_machine

from proteus import Model, Wizard
from proteus import config as pconfig

__all__ = ['activate_modules', 'pin_clock', 'create_area',
    'create_role_user', 'get_category',
    'create_connected_subscription', 'setup_accounting',
    'create_revenue_account', 'create_service', 'add_component',
    'setup_flat_tariff', 'bill_month', 'copy_account',
    'create_statement_journal', 'create_desk']

_travels = []


def activate_modules(modules, *setup):
    """Activate the modules and run the setup functions (create_company …)
    on a new database, as trytond's activate_modules does, keeping a copy
    in the cache of test databases; when the copy is missing, start from
    the cached database of the modules (the unit tests make it) instead of
    installing them again"""
    from trytond.tests.test_tryton import (
        activate_module, backup_db_cache, drop_db, restore_db_cache)
    if isinstance(modules, str):
        modules = [modules]

    def name(func):
        if isinstance(func, partial):
            return (f'{func.func.__qualname__}'
                f'(*{func.args}, **{func.keywords})')
        return func.__qualname__
    cache_name = '-'.join(sorted(modules))
    if setup:
        cache_name += '--' + '|'.join(name(f) for f in setup)
    if not restore_db_cache(cache_name):
        drop_db()
        activate_module(modules)
        config = pconfig.set_trytond()
        for func in setup:
            func(config=config)
        backup_db_cache(cache_name)
    return pconfig.set_trytond()


def pin_clock(moment):
    """Start the clock of the scenario at moment (naive, UTC), ticking from
    there: a scenario of a fixed calendar reads the same whatever day it
    runs.  The clock is the real one again after the scenario
    (unpin_clock)."""
    traveller = time_machine.travel(
        moment.replace(tzinfo=dt.timezone.utc), tick=True)
    traveller.start()
    _travels.append(traveller)


def unpin_clock():
    "Stop the clocks pin_clock started"
    while _travels:
        _travels.pop().stop()

ROLES = {
    'admin': "Water Customer Services Manager",
    'billing': "Water Billing Clerk",
    'reader': "Water Meter Reader",
    'complaints': "Water Complaints Officer",
    'inspector': "Water Inspector",
    'cashier': "Water Cashier",
    'accountant': "Water Accountant",
    }


def create_area(code, name, routes=1, config=None):
    "Create a service area open Saturday to Thursday with its routes"
    Area = Model.get('water.area', config=config)
    area = Area(code=code, name=name)
    area.centre_name = "مقر خدمات %s" % name
    for weekday in ['5', '6', '0', '1', '2', '3']:
        hours = area.working_hours.new()
        hours.weekday = weekday
        hours.start_time = dt.time(8)
        hours.end_time = dt.time(14)
    area.save()
    Route = Model.get('water.route', config=config)
    for i in range(1, routes + 1):
        Route(area=area, code=f'{code}-{i:02d}', name=f'{name} {i}',
            reading_day=i).save()
    return area


def get_category(code, config=None):
    "Return the subscription category of the code"
    Category = Model.get('water.subscription.category', config=config)
    category, = Category.find([('code', '=', code)])
    return category


def create_role_user(login, role, config=None):
    "Create a user of the role: admin, billing, reader, inspector, …"
    User = Model.get('res.user', config=config)
    Group = Model.get('res.group', config=config)
    group, = Group.find([('name', '=', ROLES[role])])
    user = User(login=login, name=login.title())
    user.groups.append(group)
    user.save()
    return user


def create_connected_subscription(name, route, position, serial, date,
        digits=5, initial_reading=0, category='domestic', config=None):
    """Register a subscriber on route, install a new meter on date and
    activate the subscription"""
    Party = Model.get('party.party', config=config)
    Meter = Model.get('water.meter', config=config)
    Subscription = Model.get('water.subscription', config=config)
    party = Party(name=name)
    party.save()
    meter = Meter(serial=serial, digits=digits)
    meter.save()
    subscription = Subscription(party=party, route=route,
        route_position=position, category=get_category(category, config))
    subscription.save()
    swap = Wizard('water.meter.swap', [subscription], config=config)
    swap.form.date = date
    swap.form.new_meter = meter
    swap.form.initial_reading = Decimal(initial_reading)
    swap.execute('swap')
    subscription.click('activate')
    return subscription


def setup_accounting(company, start, end, config=None):
    """Chart of accounts, a fiscal year from start to end with monthly
    periods and invoice sequences, and a 30-day payment term; return the
    accounts (as account/tests/tools.get_accounts) and the payment term"""
    from trytond.modules.account.tests.tools import (
        create_chart, create_fiscalyear, get_accounts)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    create_chart(company, config=config)
    fiscalyear = set_fiscalyear_invoice_sequences(
        create_fiscalyear(company, (start, end), config=config),
        config=config)
    fiscalyear.click('create_period')
    PaymentTerm = Model.get('account.invoice.payment_term', config=config)
    term = PaymentTerm(name="30 يوماً")
    line = term.lines.new(type='remainder')
    line.relativedeltas.new(days=30)
    term.save()
    return get_accounts(company, config=config), term


def create_revenue_account(name, accounts, config=None):
    "Create a revenue account beside the chart's main revenue account"
    Account = Model.get('account.account', config=config)
    revenue = accounts['revenue']
    account = Account(name=name, type=revenue.type, parent=revenue.parent,
        code=None)
    account.save()
    return account


def create_service(name, account, unit='u', taxes=(), config=None):
    "Create a service product posting to account (unit: 'u' or 'm³')"
    Category = Model.get('product.category', config=config)
    Template = Model.get('product.template', config=config)
    Uom = Model.get('product.uom', config=config)
    category = Category(name=name, accounting=True)
    category.account_revenue = account
    for tax in taxes:
        category.customer_taxes.append(tax)
    category.save()
    uom, = Uom.find([('symbol', '=', unit)])
    template = Template(name=name, type='service', default_uom=uom,
        account_category=category)
    template.save()
    product, = template.products
    return product


def add_component(version, kind, product, categories=(), areas=(),
        **values):
    "Add a tariff component of kind to version (blocks as (upper, price))"
    component = version.components.new(kind=kind, product=product)
    blocks = values.pop('blocks', ())
    for name, value in values.items():
        setattr(component, name, value)
    for upper, price in blocks:
        component.blocks.new(
            upper=None if upper is None else Decimal(upper),
            price=Decimal(price))
    # fresh instances: a record belongs to one list only in proteus
    for category in categories:
        component.categories.append(type(category)(category.id))
    for area in areas:
        component.areas.append(type(area)(area.id))
    return component


def setup_flat_tariff(accounts, payment_term, billing_start, price=5,
        fixed=10, config=None):
    """Make the utility's tariff a flat price per m³ and a fixed charge a
    month for domestic subscriptions, billed from billing_start"""
    water_account = create_revenue_account(
        "إيرادات المياه", accounts, config=config)
    water = create_service("استهلاك المياه", water_account, 'm³',
        config=config)
    meter = create_service("رسم العداد الشهري", water_account, config=config)
    Tariff = Model.get('water.tariff', config=config)
    domestic = get_category('domestic', config)
    tariff = Tariff(code='T', name="التعرفة")
    version = tariff.versions.new(start_date=dt.date(2026, 1, 1))
    add_component(version, 'volume', water, [domestic],
        method='progressive', blocks=[(None, price)])
    add_component(version, 'fixed', meter, [domestic], amount=Decimal(fixed))
    tariff.save()
    Configuration = Model.get('water.configuration', config=config)
    configuration = Configuration(1)
    configuration.tariff = tariff
    configuration.billing_start = billing_start
    configuration.bill_payment_term = payment_term
    configuration.save()
    return tariff


def bill_month(month, readings, invoice_date, config=None):
    """Read the meters on the 20th of month (readings: [(subscription,
    value)]), close the period, bill and post the month; return the bills
    by subscription id"""
    Period = Model.get('water.reading.period', config=config)
    Reading = Model.get('water.reading', config=config)
    Run = Model.get('water.billing.run', config=config)
    Bill = Model.get('water.bill', config=config)
    schedule = Wizard('water.reading.period.schedule', config=config)
    schedule.form.date = month
    schedule.execute('schedule')
    period, = Period.find([('start_date', '=', month)])
    for subscription, value in readings:
        Reading(period=period, subscription=subscription,
            date=month.replace(day=20), value=Decimal(value)).save()
    period.click('close')
    run = Run(month=month, invoice_date=invoice_date)
    run.save()
    run.click('calculate')
    run.click('post')
    return {b.subscription.id: b for b in Bill.find([('run', '=', run.id)])}


def copy_account(account, name, config=None):
    "Create an account like account (type, parent) named name"
    new, = account.duplicate()
    new.name = name
    new.save()
    return new


def create_statement_journal(name, account, config=None, **values):
    "Create a statement journal validated by amount on account"
    Journal = Model.get('account.journal', config=config)
    StatementJournal = Model.get('account.statement.journal', config=config)
    journal, = Journal.find([('type', '=', 'statement')], limit=1)
    statement_journal = StatementJournal(name=name, journal=journal,
        account=account, validation='amount', **values)
    statement_journal.save()
    return statement_journal


def create_desk(name, area, accounts, config=None):
    """Create a cash desk of area with a clearing account, an account of
    cheques to deposit and one of cash differences (copies of the cash
    account) and a statement journal for cash and for cheques; return the
    desk and its accounts by name"""
    Journal = Model.get('account.journal', config=config)
    Desk = Model.get('water.cash.desk', config=config)
    desk_accounts = {
        'cash': accounts['cash'],
        'clearing': copy_account(accounts['cash'], f"{name} - مقبوضات"),
        'cheques': copy_account(accounts['cash'], "شيكات برسم الإيداع"),
        'differences': copy_account(accounts['cash'], "فروقات الصندوق"),
        }
    cash_journal, = Journal.find([('type', '=', 'cash')], limit=1)
    desk = Desk(name=name, area=area, journal=cash_journal,
        clearing_account=desk_accounts['clearing'],
        difference_account=desk_accounts['differences'],
        cash_journal=create_statement_journal(
            f"{name} - نقد", accounts['cash'], config=config),
        cheque_journal=create_statement_journal(
            f"{name} - شيكات", desk_accounts['cheques'], config=config))
    desk.save()
    return desk, desk_accounts
