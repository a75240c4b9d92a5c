# This file is part of the water_utility module.  See README.rst.
# The models are registered by tryton.cfg; the portal's pages are routes of
# trytond's WSGI application, registered when the module is imported.
from . import routes  # noqa: F401
