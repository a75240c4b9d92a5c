# This file is part of the water_utility module.  See README.rst.
from .report_html import HTMLReport


class BillReport(HTMLReport):
    "Water Bill"
    __name__ = 'water.bill'
