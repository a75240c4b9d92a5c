# This file is part of the water_utility module.  See README.rst.
"""The subscription of invoices and of the receivable lines of the ledger

A subscriber may hold several subscriptions (a home and a shop): each bill,
credit note and payment is marked with its subscription, so that a bill
shows the balance, payments and adjustments of its own account.
"""
from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    water_subscription = fields.Many2One(
        'water.subscription', "Water Subscription", ondelete='RESTRICT',
        domain=[
            ('party', '=', Eval('party', -1)),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': Eval('type') != 'out',
            },
        help="The subscription whose account the invoice is on.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.water_subscription, Index.Range())),
                # posting checks no invoice of a sequence is dated later
                Index(t, (t.sequence, Index.Equality()),
                    (t.invoice_date, Index.Range())),
                })

    def _get_move_line(self, date, amount):
        line = super()._get_move_line(date, amount)
        line.water_subscription = self.water_subscription
        return line

    def _credit(self, **values):
        credit = super()._credit(**values)
        credit.water_subscription = self.water_subscription
        return credit

    def pay_invoice(self, amount, payment_method, date, description=None,
            overpayment=0, party=None):
        pool = Pool()
        Line = pool.get('account.move.line')
        lines = super().pay_invoice(amount, payment_method, date,
            description=description, overpayment=overpayment, party=party)
        if self.water_subscription:
            # the payment is shown on the subscription's next bill
            Line.write(lines, {
                    'water_subscription': self.water_subscription.id,
                    })
        return lines


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.bill.line']


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    water_subscription = fields.Many2One(
        'water.subscription', "Water Subscription", ondelete='RESTRICT',
        states={
            'readonly': Eval('move_state') == 'posted',
            },
        help="The subscription whose account the line is on: it shows on "
        "the subscription's next bill.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # set on payments once they are posted (Invoice.pay_invoice)
        cls._check_modify_exclude.add('water_subscription')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.water_subscription, Index.Range()),
                where=t.water_subscription != None))  # noqa: E711
