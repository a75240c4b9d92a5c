# This file is part of the water_utility module.  See README.rst.
from stdnum.il import idnr

from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import PoolMeta

from .arabic import search_key, western_digits
from .exceptions import IdentifierError

NATIONAL_ID = 'ps_idnr'


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    name_key = fields.Char(
        "Name Search Key", readonly=True,
        help="The name with Arabic spelling variants folded, for search.")
    national_id = fields.Function(
        fields.Char("National ID"), 'get_national_id',
        searcher='search_national_id')
    water_subscriptions = fields.One2Many(
        'water.subscription', 'party', "Water Subscriptions", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.name_key, Index.Similarity())))

    def compute_fields(self, field_names=None):
        values = super().compute_fields(field_names=field_names)
        if field_names is None or 'name' in field_names:
            key = search_key(self.name)
            if getattr(self, 'name_key', None) != key:
                values['name_key'] = key
        return values

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = super().search_rec_name(name, clause)
        _, operator, operand, *extra = clause
        if isinstance(operand, str):
            # "احمد" finds "أحمد" wherever a party is looked up
            domain.append(
                ('name_key', operator, search_key(operand), *extra))
        return domain

    def get_national_id(self, name):
        for identifier in self.identifiers:
            if identifier.type == NATIONAL_ID:
                return identifier.code

    @classmethod
    def search_national_id(cls, name, clause):
        return [('identifiers', 'where', [
                    ('type', '=', NATIONAL_ID),
                    ('code',) + tuple(clause[1:]),
                    ])]


class Identifier(metaclass=PoolMeta):
    __name__ = 'party.identifier'

    @fields.depends('type', 'code')
    def on_change_with_code(self):
        code = super().on_change_with_code()
        if self.type == NATIONAL_ID and code:
            code = western_digits(code).strip()
        return code

    @fields.depends('type', 'code')
    def check_code(self):
        super().check_code()
        # Palestinian identity numbers are nine digits with a Luhn check
        # digit, the scheme python-stdnum implements as il.idnr.
        if self.type == NATIONAL_ID and not idnr.is_valid(
                western_digits(self.code or '')):
            raise IdentifierError(gettext(
                    'water_utility.msg_national_id_invalid',
                    code=self.code))


class Configuration(metaclass=PoolMeta):
    __name__ = 'party.configuration'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        selection = (NATIONAL_ID, "Palestinian Identity Number")
        if selection not in cls.identifier_types.selection:
            cls.identifier_types.selection = (
                cls.identifier_types.selection + [selection])
