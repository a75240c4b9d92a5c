# This file is part of the water_utility module.  See README.rst.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.pool import Pool
from trytond.pyson import Eval, Id


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
