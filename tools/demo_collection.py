"""The collection ladder of the demo database.

One dunning procedure, "سلم التحصيل", for every subscription category: a
reminder on the bill when a bill falls due, then an SMS, a letter, a phone
call, a field visit, a settlement offer and, after six months, a referral to
legal action that a collection manager approves.  Water is never cut off.
"""
import datetime as dt

# (days overdue, action)
LADDER = [(0, 'reminder'), (15, 'sms'), (30, 'letter'), (45, 'call'),
    (60, 'visit'), (90, 'settlement'), (180, 'legal')]


def setup_ladder():
    "The procedure, set on every category (inside a transaction)"
    from trytond.pool import Pool
    pool = Pool()
    Procedure = pool.get('account.dunning.procedure')
    Category = pool.get('water.subscription.category')
    if Procedure.search([('name', '=', "سلم التحصيل")]):
        return 0
    procedure, = Procedure.create([{
                'name': "سلم التحصيل",
                'levels': [('create', [{
                                'sequence': i,
                                'overdue': dt.timedelta(days=days),
                                'water_action': action,
                                } for i, (days, action) in enumerate(
                                LADDER)])],
                }])
    categories = Category.search([])
    Category.write(categories, {'dunning_procedure': procedure.id})
    return len(categories)


def run_ladder(today):
    """Create and process the dunnings of today, as the collection section
    does every morning; return the number processed"""
    from trytond.pool import Pool
    Dunning = Pool().get('account.dunning')
    Dunning.generate_dunnings(today)
    dunnings = Dunning.search([('state', '=', 'draft')])
    Dunning.process(dunnings)
    return len(dunnings)


def setup_approvers(limit=10):
    """Let the settlement approvers grant up to limit % of discount, the
    utility's policy (inside a transaction); return how many"""
    from decimal import Decimal
    from trytond.pool import Pool
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    group = ModelData.get_id('water_utility', 'group_water_settlement_approver')
    users = User.search([('groups', '=', group)])
    User.write(users, {'water_settlement_discount_limit': Decimal(limit)})
    return len(users)


def grant_rewards():
    "Grant the rewards of the last month judged, as the monthly task does"
    from trytond.pool import Pool
    Reward = Pool().get('water.reward')
    before = Reward.search([], count=True)
    Reward.grant_cron()
    return Reward.search([], count=True) - before
