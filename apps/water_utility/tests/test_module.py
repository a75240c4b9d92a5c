# This file is part of the water_utility module.  See README.rst.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class WaterUtilityTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Water Utility module"
    module = 'water_utility'


del ModuleTestCase
