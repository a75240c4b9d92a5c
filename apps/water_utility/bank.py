# This file is part of the water_utility module.  See README.rst.
"""Bank and e-payment files imported into Tryton statements

The file (bank_file.py) becomes a draft statement of the journal the clerk
chooses, one origin per payment.  Each origin whose reference names a
subscription (its number, a bill's number or the bill's QR text) gets a
statement line out of the journal's clearing account; the others stay
without a line for a clerk, who names the subscription (or books the line
elsewhere by hand).  Validating the statement posts a receipt per matched
line (payment.py: the oldest bills first, a credit for the rest) and the
statement's move takes the money from the clearing account to the bank.

A row already imported on the journal (same key, see bank_file.py) is
skipped: importing a file twice adds nothing.
"""

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import without_check_access

from . import bank_file
from .exceptions import BankImportError
from .reading_file import FileError

FORMAT = 'water_csv'


class StatementJournal(metaclass=PoolMeta):
    __name__ = 'account.statement.journal'

    water_method = fields.Selection([
            (None, ""),
            ('bank', "Bank Transfer"),
            ('epayment', "E-Payment"),
            ], "Water Payment Method",
        states={
            'invisible': ~Eval('water_import'),
            'required': Bool(Eval('water_import')),
            },
        help="How the receipts of the imported payments are recorded.")

    @classmethod
    def default_water_method(cls):
        return 'bank'


class Statement(metaclass=PoolMeta):
    __name__ = 'account.statement'

    water_import = fields.Function(
        fields.Boolean("Import Water Payments"), 'on_change_with_water_import')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'water_match': {
                    'invisible': (Eval('state') != 'draft')
                    | ~Eval('water_import'),
                    'depends': ['state', 'water_import'],
                    },
                })

    @fields.depends('journal')
    def on_change_with_water_import(self, name=None):
        return bool(self.journal and self.journal.water_import)

    @classmethod
    @ModelView.button
    def water_match(cls, statements):
        """Give a line to every origin of the statements that names a
        subscription and has an amount left"""
        pool = Pool()
        Origin = pool.get('account.statement.origin')
        Line = pool.get('account.statement.line')
        origins = [o for s in statements if s.state == 'draft'
            and s.journal.water_import for o in s.origins
            if o.amount > 0 and o.pending_amount == o.amount]
        Origin.water_find_subscriptions(
            [o for o in origins if not o.water_subscription])
        lines = []
        for origin in origins:
            subscription = origin.water_subscription
            if not subscription:
                continue
            lines.append(Line(
                    statement=origin.statement,
                    origin=origin,
                    date=origin.date,
                    amount=origin.pending_amount,
                    account=origin.statement.journal.water_clearing_account,
                    party=subscription.party,
                    water_subscription=subscription,
                    description=gettext(
                        'water_utility.msg_bank_line_description',
                        subscription=subscription.number,
                        reference=origin.water_reference or '')))
        Line.save(lines)

    @classmethod
    def validate_statement(cls, statements):
        cls.water_post_payments([s for s in statements if s.state == 'draft'])
        super().validate_statement(statements)

    @classmethod
    def water_post_payments(cls, statements):
        "Post a receipt for every line of a subscription that has none"
        pool = Pool()
        Payment = pool.get('water.payment')
        Line = pool.get('account.statement.line')
        lines = [l for s in statements for l in s.lines
            if l.water_subscription and not l.water_payment]
        if not lines:
            return
        payments = []
        for line in lines:
            journal = line.statement.journal
            origin = line.origin
            payments.append(Payment(
                    company=line.statement.company,
                    date=line.date,
                    subscription=line.water_subscription,
                    amount=line.amount,
                    method=journal.water_method or 'bank',
                    statement_origin=origin,
                    reference=(origin.number or origin.water_reference
                        if origin else None),
                    payer=origin.description if origin else None))
        Payment.save(payments)
        with without_check_access():
            Payment.post(payments)
        for line, payment in zip(lines, payments):
            line.water_payment = payment
        Line.save(lines)

    @classmethod
    def cancel(cls, statements):
        pool = Pool()
        Payment = pool.get('water.payment')
        posted = Payment.search([
                ('statement_origin.statement', 'in',
                    [s.id for s in statements]),
                ('state', '=', 'posted'),
                ], limit=1)
        if posted:
            payment, = posted
            raise BankImportError(gettext(
                    'water_utility.msg_bank_cancel_posted',
                    statement=payment.statement_origin.statement.rec_name,
                    payment=payment.rec_name))
        super().cancel(statements)


class StatementLine(metaclass=PoolMeta):
    __name__ = 'account.statement.line'

    water_subscription = fields.Many2One(
        'water.subscription', "Subscription", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'readonly': Eval('statement_state') != 'draft',
            },
        help="The subscription a receipt is posted for when the statement "
        "is validated.")
    water_payment = fields.Many2One(
        'water.payment', "Receipt", readonly=True, ondelete='RESTRICT')

    @fields.depends('water_subscription', 'statement',
        '_parent_statement.journal')
    def on_change_water_subscription(self):
        if self.water_subscription:
            self.party = self.water_subscription.party
            if self.statement and self.statement.journal:
                self.account = self.statement.journal.water_clearing_account

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('water_payment', None)
        return super().copy(lines, default=default)


class StatementOrigin(metaclass=PoolMeta):
    __name__ = 'account.statement.origin'

    water_reference = fields.Char("Payment Reference", readonly=True)
    water_key = fields.Char("Import Key", readonly=True,
        help="Identifies the payment of the file: a payment already "
        "imported on the journal is not imported again.")
    water_subscription = fields.Many2One(
        'water.subscription', "Subscription", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'readonly': Eval('statement_state') != 'draft',
            },
        help="The subscription the payment is for: found from the "
        "reference or chosen by the clerk.")
    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.water_key, Index.Equality())))

    @classmethod
    def water_find_subscriptions(cls, origins):
        """Set the subscription of origins from their reference: a
        subscription number or a bill (invoice) number"""
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Invoice = pool.get('account.invoice')
        wanted = {}
        for origin in origins:
            wanted[origin] = bank_file.reference(origin.water_reference)
        numbers = {s for s, _ in wanted.values() if s}
        bills = {b for _, b in wanted.values() if b}
        by_number, by_bill = {}, {}
        with without_check_access():
            for sub in grouped_slice(sorted(numbers), backend.MAX_QUERY_PARAMS):
                for subscription in Subscription.search([
                            ('number', 'in', list(sub)),
                            ]):
                    by_number[subscription.number] = subscription
            for sub in grouped_slice(sorted(bills), backend.MAX_QUERY_PARAMS):
                for invoice in Invoice.search([
                            ('number', 'in', list(sub)),
                            ('type', '=', 'out'),
                            ('water_subscription', '!=', None),
                            ]):
                    by_bill[invoice.number] = invoice.water_subscription
        for origin, (number, bill) in wanted.items():
            subscription = by_number.get(number) or by_bill.get(bill)
            if subscription and subscription.company == origin.company:
                origin.water_subscription = subscription
        cls.save([o for o in origins if o.water_subscription])


class ImportStatementStart(metaclass=PoolMeta):
    __name__ = 'account.statement.import.start'

    water_journal = fields.Many2One(
        'account.statement.journal', "Journal",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('water_import', '=', True),
            ],
        states={
            'invisible': Eval('file_format') != FORMAT,
            'required': Eval('file_format') == FORMAT,
            })
    water_name = fields.Char("File Name", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the client fills in the name of the file chosen
        cls.file_.filename = 'water_name'
        cls.file_format.selection.append((FORMAT, "Water Payments (CSV)"))


class ImportStatement(metaclass=PoolMeta):
    __name__ = 'account.statement.import'

    def parse_water_csv(self):
        pool = Pool()
        Statement = pool.get('account.statement')
        statement = import_file(
            self.start.water_journal, self.start.file_,
            self.start.water_name)
        # the wizard saves the statements it is given: the import did
        yield Statement(statement.id)

    def do_import_(self, action):
        action, data = super().do_import_(action)
        if self.start.file_format == FORMAT:
            pool = Pool()
            Statement = pool.get('account.statement')
            Statement.water_match(Statement.browse(data['res_id']))
        return action, data


def import_file(journal, data, name=None):
    """Import the bytes of a bank file into a new draft statement of
    journal and return it

    Rows already imported on the journal are skipped; a file with an
    unreadable row is refused whole, each such row named, so that the
    bank's file is never half imported.
    """
    pool = Pool()
    Statement = pool.get('account.statement')
    Origin = pool.get('account.statement.origin')
    Lang = pool.get('ir.lang')
    try:
        _, rows = bank_file.parse(data)
    except FileError as error:
        raise BankImportError(gettext(
                'water_utility.msg_bank_file_' + error.code,
                name=name or '', **error.params)) from error
    errors = [r for r in rows if r.error]
    if errors:
        raise BankImportError(gettext(
                'water_utility.msg_bank_file_rows', name=name or '',
                rows='\n'.join(
                    gettext('water_utility.msg_bank_file_row_' + r.error,
                        line=r.line, raw=r.raw) for r in errors)))
    existing = set()
    keys = [r.key for r in rows]
    for sub in grouped_slice(keys, backend.MAX_QUERY_PARAMS):
        existing.update(o.water_key for o in Origin.search([
                    ('water_key', 'in', list(sub)),
                    ('statement.journal', '=', journal.id),
                    ('statement.state', '!=', 'cancelled'),
                    ]))
    rows = [r for r in rows if r.key not in existing]
    if not rows:
        raise BankImportError(gettext(
                'water_utility.msg_bank_file_imported', name=name or ''))
    currency = journal.currency
    total = sum(r.amount for r in rows)
    date = max(r.date for r in rows)
    lang = Lang.get()
    statement = Statement(
        name=name or gettext('water_utility.msg_bank_statement_name',
            journal=journal.rec_name, date=lang.strftime(date)),
        company=journal.company,
        journal=journal,
        date=date,
        origins=[Origin(
                number=r.transaction or None,
                date=r.date,
                amount=currency.round(r.amount),
                description=r.payer or None,
                water_reference=r.reference,
                water_key=r.key) for r in rows])
    validation = journal.validation
    if validation == 'amount':
        statement.total_amount = currency.round(total)
    elif validation == 'number_of_lines':
        statement.number_of_lines = len(rows)
    elif validation == 'balance':
        previous = Statement.search([
                ('journal', '=', journal.id),
                ('state', 'in', ['validated', 'posted']),
                ], order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
        start = previous[0].end_balance if previous else 0
        statement.start_balance = start
        statement.end_balance = currency.round(start + total)
    statement.save()
    return statement
