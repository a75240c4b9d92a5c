# This file is part of the water_utility module.  See README.rst.
"Helpers for the scenarios, in the manner of account/tests/tools.py"
import datetime as dt

from decimal import Decimal

from proteus import Model, Wizard

__all__ = ['create_area', 'create_role_user', 'get_category',
    'create_connected_subscription']

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
