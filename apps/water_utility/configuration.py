# This file is part of the water_utility module.  See README.rst.
import datetime as dt
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.pool import Pool
from trytond.pyson import Eval, Id
from trytond.transaction import Transaction

from .plausibility import RULES, Rules


def _subscription_sequence_field(company):
    return fields.Many2One(
        'ir.sequence', "Subscription Sequence", required=True,
        domain=[
            ('company', 'in', [company, None]),
            ('sequence_type', '=',
                Id('water_utility', 'sequence_type_subscription')),
            ],
        help="Numbers new subscriptions when they are created.")


class Configuration(ModelSingleton, ModelSQL, ModelView,
        CompanyMultiValueMixin):
    "Water Utility Configuration"
    __name__ = 'water.configuration'

    subscription_sequence = fields.MultiValue(_subscription_sequence_field(
            Eval('context', {}).get('company', -1)))

    reading_average_months = fields.Integer(
        "Months of Average", required=True,
        domain=[('reading_average_months', '>=', 1)],
        help="Recent months of actual readings whose daily average gives "
        "the expected consumption and the estimates.")
    reading_factor = fields.Numeric(
        "Average Factor", digits=(16, 2), required=True,
        domain=[('reading_factor', '>', 1)],
        help="A consumption this many times above (or below) the average "
        "is held, if it also differs by the margin.")
    reading_margin = fields.Numeric(
        "Average Margin (m³)", digits=(16, 3), required=True,
        domain=[('reading_margin', '>=', 0)],
        help="Small consumers vary a lot relatively: a difference below "
        "this volume is never held.")
    check_note = fields.Boolean("Hold Reader Notes",
        help="Hold readings whose note prevented reading the meter.")
    check_leak = fields.Boolean("Hold Leak Flags",
        help="Hold readings whose meter reported a leak or a burst.")
    check_negative = fields.Boolean("Hold Negative Consumption")
    check_zero = fields.Boolean("Hold Zero Consumption",
        help="Hold a zero consumption of an active subscription.")
    check_high = fields.Boolean("Hold High Consumption")
    check_low = fields.Boolean("Hold Low Consumption")
    check_date = fields.Boolean("Hold Dates Outside Period")
    check_duplicate = fields.Boolean("Hold Second Readings")

    tariff = fields.Many2One(
        'water.tariff', "Default Tariff",
        help="The tariff of the areas that have none of their own.")
    billing_start = fields.Date(
        "Billing Start Month",
        help="The first month this system bills: the readings of earlier "
        "months were billed by the system it replaced.")
    bill_payment_term = fields.Many2One(
        'account.invoice.payment_term', "Bill Payment Term",
        help="Gives the due date of the bills; empty for the subscriber's "
        "own payment term.")
    bill_deadline_day = fields.Integer(
        "Delivery Deadline Day", required=True,
        domain=[('bill_deadline_day', '>=', 1),
            ('bill_deadline_day', '<=', 28)],
        help="The day of the month after the readings by which every bill "
        "must reach its subscriber (the charter says the first week).")
    bill_language = fields.Many2One(
        'ir.lang', "Bill Language",
        domain=[('translatable', '=', True)],
        help="The language of the bills' lines in the ledger; the printed "
        "bill follows the subscriber's language.")

    payment_allocation = fields.Selection([
            ('oldest', "Oldest Bills First"),
            ('newest', "Newest Bills First"),
            ], "Payment Allocation",
        help="Which open bills a payment settles first; a bill the "
        "subscriber brings is always settled first.")


    settlement_max_discount = fields.Numeric(
        "Settlement Maximum Discount (%)", digits=(16, 2),
        domain=['OR',
            ('settlement_max_discount', '=', None),
            [('settlement_max_discount', '>=', 0),
                ('settlement_max_discount', '<=', 100)],
            ],
        help="The utility's policy: the largest discount on a debt a "
        "settlement may give, in percent of the debt.")
    settlement_min_down_payment = fields.Numeric(
        "Settlement Minimum Down Payment (%)", digits=(16, 2),
        domain=['OR',
            ('settlement_min_down_payment', '=', None),
            [('settlement_min_down_payment', '>=', 0),
                ('settlement_min_down_payment', '<=', 100)],
            ],
        help="In percent of the debt left after the discount.")
    settlement_max_instalments = fields.Integer(
        "Settlement Maximum Instalments",
        domain=['OR',
            ('settlement_max_instalments', '=', None),
            ('settlement_max_instalments', '>=', 1),
            ])
    settlement_due_day = fields.Integer(
        "Instalment Due Day",
        domain=['OR',
            ('settlement_due_day', '=', None),
            [('settlement_due_day', '>=', 1),
                ('settlement_due_day', '<=', 31)],
            ],
        help="The day of the month the instalments fall due: the day the "
        "month's bill is due.")
    settlement_grace_days = fields.Integer(
        "Instalment Grace Days",
        domain=['OR',
            ('settlement_grace_days', '=', None),
            ('settlement_grace_days', '>=', 0),
            ],
        help="Days after its due date before an unpaid instalment is "
        "missed and the settlement defaulted.")
    settlement_journal = fields.Many2One(
        'account.journal', "Settlement Journal",
        help="The journal of the moves that turn the bills into "
        "instalments.")
    settlement_discount_account = fields.Many2One(
        'account.account', "Settlement Discount Account",
        domain=[
            ('type.expense', '=', True),
            ('closed', '!=', True),
            ])

    @classmethod
    def default_payment_allocation(cls):
        return 'oldest'

    @classmethod
    def default_settlement_due_day(cls):
        return 15

    def get_settlement_due_day(self):
        return self.settlement_due_day or self.default_settlement_due_day()

    @classmethod
    def default_reading_average_months(cls):
        return 3

    @classmethod
    def default_reading_factor(cls):
        return Decimal(3)

    @classmethod
    def default_reading_margin(cls):
        return Decimal(10)

    @classmethod
    def default_check_note(cls):
        return True

    @classmethod
    def default_check_leak(cls):
        return True

    @classmethod
    def default_check_negative(cls):
        return True

    @classmethod
    def default_check_zero(cls):
        return True

    @classmethod
    def default_check_high(cls):
        return True

    @classmethod
    def default_check_low(cls):
        return True

    @classmethod
    def default_check_date(cls):
        return True

    @classmethod
    def default_check_duplicate(cls):
        return True

    @classmethod
    def default_bill_deadline_day(cls):
        return 7

    def get_deadline(self, month):
        "The day the bills of the readings of month must be delivered by"
        following = (month.replace(day=1) + dt.timedelta(days=32)).replace(
            day=1)
        return following.replace(day=self.bill_deadline_day
            or self.default_bill_deadline_day())

    def get_tariff(self, company):
        "The default tariff id"
        return self.tariff.id if self.tariff else None

    def get_bill_language(self):
        "The code of the language of the bills' lines"
        pool = Pool()
        Lang = pool.get('ir.lang')
        if self.bill_language:
            return self.bill_language.code
        langs = Lang.search([('code', '=', 'ar'), ('translatable', '=', True)])
        return langs[0].code if langs else Transaction().language

    def get_reading_average_months(self):
        return (self.reading_average_months
            or self.default_reading_average_months())

    def get_reading_rules(self):
        "Return the plausibility Rules as configured"
        defaults = Rules()

        def get(name, default):
            value = getattr(self, name, None)
            return default if value is None else value
        return Rules(
            factor=get('reading_factor', defaults.factor),
            margin=get('reading_margin', defaults.margin),
            **{r: get('check_' + r, True) for r in RULES})

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field == 'subscription_sequence':
            return pool.get('water.configuration.sequence')
        return super().multivalue_model(field)

    @classmethod
    def default_subscription_sequence(cls, **pattern):
        return cls.multivalue_model(
            'subscription_sequence').default_subscription_sequence()


class ConfigurationSequence(ModelSQL, CompanyValueMixin):
    "Water Utility Configuration Sequence"
    __name__ = 'water.configuration.sequence'

    subscription_sequence = _subscription_sequence_field(Eval('company', -1))

    @classmethod
    def default_subscription_sequence(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id(
                'water_utility', 'sequence_subscription')
        except KeyError:
            return None
