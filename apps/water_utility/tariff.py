# This file is part of the water_utility module.  See README.rst.
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.modules.currency.fields import Monetary
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from . import rating
from .exceptions import TariffError, TariffVersionBilledError

KINDS = [
    (rating.VOLUME, "Volume (Blocks)"),
    (rating.MINIMUM, "Minimum Charge"),
    (rating.FIXED, "Fixed Monthly Charge"),
    (rating.SEWAGE, "Sewage"),
    (rating.FEE, "Fee Collected for Others"),
    (rating.DISCOUNT, "Discount"),
    ]
assert [k for k, _ in KINDS] == list(rating.KINDS)

CONDITIONS = [
    ('social_welfare', "Social Welfare Case"),
    ]


def _kind(*kinds):
    return Eval('kind').in_(list(kinds))


class Tariff(DeactivableMixin, ModelSQL, ModelView):
    "Water Tariff"
    __name__ = 'water.tariff'
    __string__ = "Water Tariff"

    company = fields.Many2One('company.company', "Company", required=True)
    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)
    versions = fields.One2Many(
        'water.tariff.version', 'tariff', "Versions",
        order=[('start_date', 'DESC')],
        help="Each version applies from its start date until the next one.")

    @classmethod
    def __setup__(cls):
        cls.code.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.company, t.code),
                'water_utility.msg_tariff_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return f'{self.code} - {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('code', operator, value),
            ('name', operator, value),
            ]

    @classmethod
    def of_subscriptions(cls, subscriptions):
        """Return by subscription id the id of its tariff: its area's, else
        the configuration's default (None without any)"""
        pool = Pool()
        Configuration = pool.get('water.configuration')
        configuration = Configuration(1)
        return {s.id: (s.area.tariff.id if s.area.tariff
                else configuration.get_tariff(s.company))
            for s in subscriptions}

    @classmethod
    def timelines(cls, tariffs):
        """Return by tariff id its [(start_date, version)] in date order,
        read for all the tariffs at once"""
        pool = Pool()
        Version = pool.get('water.tariff.version')
        result = defaultdict(list)
        for version in Version.search([
                    ('tariff', 'in', [int(t) for t in tariffs]),
                    ], order=[('start_date', 'ASC')]):
            result[version.tariff.id].append((version.start_date, version))
        return result


def segments(timeline, key, start, end):
    """Return the rating.Segments of timeline from start (excluded) to end
    for the subscriptions of key (category id, area id, sewage, social
    welfare), or None when its versions do not cover every day"""
    shares = rating.days_by_version(timeline or [], start, end)
    if sum(d for _, d in shares) != (end - start).days:
        return None
    return [rating.Segment(v.charges(*key), d) for v, d in shares]


def reprice(timeline, key, start, end, billed, actual, rounding,
        quantum=Decimal('0.001')):
    """Return the rating.Lines of what actual m³ cost more than billed m³
    from start (excluded) to end, each day at its own tariff (volume blocks,
    sewage, discounts; no fixed charge), or None when the tariff does not
    cover every day"""
    segments_ = segments(timeline, key, start, end)
    if segments_ is None:
        return None
    return rating.rate(segments_, 0, quantum=quantum, rounding=rounding,
        settlements=[(segments_, billed, actual)])


class Version(ModelSQL, ModelView):
    "Water Tariff Version"
    __name__ = 'water.tariff.version'
    __string__ = "Tariff Version"

    tariff = fields.Many2One(
        'water.tariff', "Tariff", required=True, ondelete='CASCADE')
    start_date = fields.Date(
        "Start Date", required=True,
        help="The first day the version applies; it applies until the day "
        "before the next version starts.")
    end_date = fields.Function(fields.Date("End Date"), 'get_end_date')
    reference = fields.Char(
        "Reference", help="The decision that set these prices.")
    components = fields.One2Many(
        'water.tariff.component', 'version', "Components")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('start_unique', Unique(t, t.tariff, t.start_date),
                'water_utility.msg_tariff_version_unique'),
            ]
        cls._order = [('tariff', 'ASC'), ('start_date', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return f'{self.tariff.rec_name} @ {self.start_date}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('tariff.rec_name',) + tuple(clause[1:])]

    @classmethod
    def get_end_date(cls, versions, name):
        timelines = Pool().get('water.tariff').timelines(
            {v.tariff for v in versions})
        result = {}
        for version in versions:
            starts = [d for d, _ in timelines[version.tariff.id]
                if d > version.start_date]
            result[version.id] = (
                min(starts) - dt.timedelta(days=1) if starts else None)
        return result

    def get_currency(self, name):
        return self.tariff.company.currency.id

    def charges(self, category, area, sewage, social_welfare):
        """Return the rating.Charges of the components that apply to a
        subscription of category in area, sewage connected or not"""
        charges = []
        for component in self.components:
            if component.applies(category, area, sewage, social_welfare):
                charges.append(component.charge())
        return tuple(charges)

    @classmethod
    def check_billed(cls, versions):
        """Refuse to change versions whose prices posted bills used: a new
        version must be created instead"""
        pool = Pool()
        Bill = pool.get('water.bill')
        versions = [v for v in versions if v.id and v.id >= 0]
        if not versions:
            return
        by_tariff = defaultdict(list)
        for version in versions:
            by_tariff[version.tariff.id].append(version)
        for tariff, tariff_versions in by_tariff.items():
            earliest = min(v.start_date for v in tariff_versions)
            bills = Bill.search([
                    ('tariff', '=', tariff),
                    ('state', 'in', ['posted', 'credited']),
                    ('end_date', '>=', earliest),
                    ], order=[('end_date', 'DESC')], limit=1)
            if not bills:
                continue
            bill, = bills
            for version in tariff_versions:
                if version.start_date <= bill.end_date and (
                        not version.end_date
                        or version.end_date >= bill.start_date):
                    raise TariffVersionBilledError(gettext(
                            'water_utility.msg_tariff_version_billed',
                            version=version.rec_name, bill=bill.rec_name))

    @classmethod
    def check_modification(cls, mode, versions, values=None, external=False):
        super().check_modification(
            mode, versions, values=values, external=external)
        if mode in {'write', 'delete'}:
            cls.check_billed(versions)

    @classmethod
    def copy(cls, versions, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('start_date', None)
        return super().copy(versions, default=default)


class Component(sequence_ordered(), ModelSQL, ModelView):
    "Water Tariff Component"
    __name__ = 'water.tariff.component'
    __string__ = "Tariff Component"

    version = fields.Many2One(
        'water.tariff.version', "Version", required=True, ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'service')],
        help="Names the bill line; its accounting category gives the "
        "revenue account and the taxes.")
    categories = fields.Many2Many(
        'water.tariff.component-water.subscription.category',
        'component', 'category', "Categories",
        help="The subscription categories it applies to; empty for all.")
    areas = fields.Many2Many(
        'water.tariff.component-water.area', 'component', 'area', "Areas",
        help="The service areas it applies to; empty for all.")
    method = fields.Selection([
            (None, ''),
            ('progressive', "Block by Block"),
            ('whole', "Whole Volume at the Reached Block"),
            ], "Method", sort=False,
        states={
            'invisible': Eval('kind') != rating.VOLUME,
            'required': Eval('kind') == rating.VOLUME,
            },
        help="Block by block: the m³ of each block at its price.\n"
        "Whole volume: every m³ at the price of the block reached.")
    blocks = fields.One2Many(
        'water.tariff.block', 'component', "Blocks",
        states={
            'invisible': Eval('kind') != rating.VOLUME,
            })
    amount = Monetary(
        "Amount per Month", currency='currency', digits='currency',
        states={
            'invisible': ~_kind(rating.FIXED, rating.MINIMUM, rating.FEE),
            'required': _kind(rating.FIXED, rating.MINIMUM, rating.FEE),
            },
        domain=[If(_kind(rating.FIXED, rating.MINIMUM, rating.FEE),
                ('amount', '>=', 0), ())],
        help="A connection for part of the month pays its share by days.")
    sewage_method = fields.Selection([
            (None, ''),
            ('percentage', "Percentage of the Water Charge"),
            ('volume', "Price per m³ of Water"),
            ], "Sewage Method", sort=False,
        states={
            'invisible': Eval('kind') != rating.SEWAGE,
            'required': Eval('kind') == rating.SEWAGE,
            })
    percentage = fields.Numeric(
        "Percentage", digits=(16, 4),
        states={
            'invisible': ~(((Eval('kind') == rating.SEWAGE)
                    & (Eval('sewage_method') == 'percentage'))
                | (Eval('kind') == rating.DISCOUNT)),
            'required': (((Eval('kind') == rating.SEWAGE)
                    & (Eval('sewage_method') == 'percentage'))
                | (Eval('kind') == rating.DISCOUNT)),
            },
        domain=['OR',
            ('percentage', '=', None),
            [('percentage', '>=', 0), ('percentage', '<=', 1)],
            ])
    price = fields.Numeric(
        "Price per m³", digits=price_digits,
        states={
            'invisible': ~((Eval('kind') == rating.SEWAGE)
                & (Eval('sewage_method') == 'volume')),
            'required': ((Eval('kind') == rating.SEWAGE)
                & (Eval('sewage_method') == 'volume')),
            },
        domain=['OR', ('price', '=', None), ('price', '>=', 0)])
    base = fields.MultiSelection([
            (rating.VOLUME, "Volume"),
            (rating.MINIMUM, "Minimum Charge"),
            (rating.FIXED, "Fixed Charge"),
            (rating.SEWAGE, "Sewage"),
            (rating.FEE, "Fees"),
            ], "Applies To", sort=False,
        states={
            'invisible': Eval('kind') != rating.DISCOUNT,
            'required': Eval('kind') == rating.DISCOUNT,
            })
    condition = fields.Selection([(None, '')] + CONDITIONS, "Condition",
        sort=False,
        states={
            'invisible': Eval('kind') != rating.DISCOUNT,
            'required': Eval('kind') == rating.DISCOUNT,
            },
        help="Who receives the discount.")
    collected_for = fields.Char(
        "Collected For",
        states={
            'invisible': Eval('kind') != rating.FEE,
            },
        help="Who the fee is collected for (a municipality, …); the "
        "product's account holds what is owed to them.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('version')

    @classmethod
    def default_base(cls):
        return sorted(rating.DISCOUNT_BASE)

    @fields.depends('version', '_parent_version.tariff')
    def on_change_with_currency(self, name=None):
        if self.version and self.version.tariff:
            return self.version.tariff.company.currency

    @fields.depends('kind', 'method', 'sewage_method')
    def on_change_kind(self):
        if self.kind == rating.VOLUME and not self.method:
            self.method = 'progressive'
        if self.kind == rating.SEWAGE and not self.sewage_method:
            self.sewage_method = 'percentage'

    def get_rec_name(self, name):
        kind = dict(self.fields_get(['kind'])['kind']['selection'])[self.kind]
        return f'{kind} - {self.product.rec_name}'

    def applies(self, category, area, sewage, social_welfare):
        "Whether the component applies to such a subscription"
        if self.categories and category not in {
                c.id for c in self.categories}:
            return False
        if self.areas and area not in {a.id for a in self.areas}:
            return False
        if self.kind == rating.SEWAGE and not sewage:
            return False
        if (self.kind == rating.DISCOUNT
                and self.condition == 'social_welfare'
                and not social_welfare):
            return False
        return True

    def charge(self):
        "Return the rating.Charge of the component"
        if self.kind == rating.VOLUME:
            return rating.Charge(rating.VOLUME, self.product.id,
                blocks=tuple(rating.Block(b.upper, b.price)
                    for b in self.blocks),
                whole=self.method == 'whole')
        if self.kind == rating.SEWAGE:
            if self.sewage_method == 'volume':
                return rating.Charge(rating.SEWAGE, self.product.id,
                    price=self.price)
            return rating.Charge(rating.SEWAGE, self.product.id,
                percentage=self.percentage)
        if self.kind == rating.DISCOUNT:
            return rating.Charge(rating.DISCOUNT, self.product.id,
                percentage=self.percentage, base=frozenset(self.base))
        return rating.Charge(self.kind, self.product.id, amount=self.amount)

    @classmethod
    def validate_fields(cls, components, field_names):
        super().validate_fields(components, field_names)
        for component in components:
            if component.kind == rating.DISCOUNT and (
                    not component.base
                    or rating.DISCOUNT in component.base):
                raise TariffError(gettext(
                        'water_utility.msg_tariff_discount_base',
                        component=component.rec_name))
            if component.kind == rating.VOLUME:
                component.check_blocks()

    def check_blocks(self):
        try:
            rating.check_blocks(
                [rating.Block(b.upper, b.price) for b in self.blocks])
        except rating.TariffError:
            raise TariffError(gettext(
                    'water_utility.msg_tariff_blocks',
                    component=self.rec_name,
                    version=self.version.rec_name))

    @classmethod
    def check_modification(cls, mode, components, values=None,
            external=False):
        pool = Pool()
        Version = pool.get('water.tariff.version')
        super().check_modification(
            mode, components, values=values, external=external)
        Version.check_billed(list({c.version for c in components}))


class ComponentCategory(ModelSQL):
    "Tariff Component - Subscription Category"
    __name__ = 'water.tariff.component-water.subscription.category'
    component = fields.Many2One(
        'water.tariff.component', "Component", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'water.subscription.category', "Category", required=True,
        ondelete='CASCADE')


class ComponentArea(ModelSQL):
    "Tariff Component - Service Area"
    __name__ = 'water.tariff.component-water.area'
    component = fields.Many2One(
        'water.tariff.component', "Component", required=True,
        ondelete='CASCADE')
    area = fields.Many2One(
        'water.area', "Area", required=True, ondelete='CASCADE')


class Block(ModelSQL, ModelView):
    "Water Tariff Block"
    __name__ = 'water.tariff.block'
    __string__ = "Tariff Block"

    component = fields.Many2One(
        'water.tariff.component', "Component", required=True,
        ondelete='CASCADE')
    upper = fields.Numeric(
        "Up To (m³)", digits=(16, 3),
        domain=['OR', ('upper', '=', None), ('upper', '>', 0)],
        help="The monthly m³ the block ends at; empty for the last block.")
    price = fields.Numeric(
        "Price per m³", digits=price_digits, required=True,
        domain=[('price', '>=', 0)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('component')
        cls._order = [
            ('component', 'ASC'), ('upper', 'ASC NULLS LAST'), ('id', 'ASC')]

    @classmethod
    def validate_fields(cls, blocks, field_names):
        super().validate_fields(blocks, field_names)
        for component in {b.component for b in blocks}:
            component.check_blocks()

    @classmethod
    def check_modification(cls, mode, blocks, values=None, external=False):
        pool = Pool()
        Version = pool.get('water.tariff.version')
        super().check_modification(
            mode, blocks, values=values, external=external)
        Version.check_billed(list({b.component.version for b in blocks}))

