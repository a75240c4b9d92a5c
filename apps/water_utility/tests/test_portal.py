# This file is part of the water_utility module.  See README.rst.
"""The subscriber portal: every page, and every refusal, through HTTP"""
import configparser
import datetime as dt
import io
import json
import re
import unittest
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix

from trytond import backend, config
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.tests.test_tryton import DB_NAME, Client
from trytond.transaction import Transaction
from trytond.wsgi import app

from .. import portal as tools
from ..bill_report import add_months
from ..routes import SESSION_COOKIE
from .database import UtilityTestCase, utility
from . import test_billing as billing
from . import test_module as base

PASSWORD = 'Mayy-2026-water'
# the portal's address, as configured ([water_portal] url)
PORTAL_URL = 'https://portal.example.ps'
# the configuration the repository ships (make run)
SHIPPED_CONFIG = Path(__file__).resolve().parents[3] / 'config/trytond.conf'
MONTHS = [dt.date(2026, 9, 1), billing.MONTH]


def png(size=(4, 4)):
    from PIL import Image
    data = io.BytesIO()
    Image.new('RGB', size, (0, 90, 160)).save(data, 'PNG')
    return data.getvalue()


class PortalToolsTestCase(unittest.TestCase):
    "The pure functions of the portal"

    @given(st.text(min_size=1), st.text())
    def test_csrf_token_of_another_secret_refused(self, secret, other):
        token = tools.csrf_token(secret)
        self.assertTrue(tools.csrf_valid(secret, token))
        if other != secret:
            self.assertFalse(tools.csrf_valid(other, token))
        self.assertFalse(tools.csrf_valid(secret, ''))
        self.assertFalse(tools.csrf_valid('', token))

    @given(st.decimals(min_value=0, max_value=10 ** 6, places=2))
    def test_amount_typed_in_either_digits(self, amount):
        amount = abs(amount)  # not -0.00
        text = str(amount)
        arabic = text.translate(str.maketrans('0123456789.', '٠١٢٣٤٥٦٧٨٩٫'))
        self.assertEqual(tools.parse_amount(text), amount)
        self.assertEqual(tools.parse_amount(arabic), amount)
        self.assertEqual(tools.parse_amount(text + ' ₪'), amount)

    def test_amount_refused(self):
        for text in ['', None, 'abc', '1.2.3', '12-5', '<script>']:
            self.assertIsNone(tools.parse_amount(text), text)
        self.assertEqual(tools.parse_amount('1,234.50'), Decimal('1234.50'))

    @given(st.lists(st.floats(min_value=0, max_value=1e6), max_size=24),
        st.booleans())
    def test_chart_bars_fit_and_keep_order(self, values, rtl):
        bars = tools.chart_bars(values, 600, 160, rtl=rtl)
        self.assertEqual(len(bars), len(values))
        for (x, y, w, h), value in zip(bars, values):
            self.assertTrue(0 <= h <= 160 + 1e-9)
            self.assertAlmostEqual(y + h, 160)
            self.assertTrue(0 <= x and x + w <= 600 + 1e-9)
        # the months follow the reading direction
        xs = [x for x, _, _, _ in bars]
        self.assertEqual(xs, sorted(xs, reverse=rtl))
        if values and max(values) > 0:
            top = max(range(len(values)), key=values.__getitem__)
            self.assertAlmostEqual(bars[top][3], 160)
            for (_, _, _, h1), (_, _, _, h2), v1, v2 in zip(
                    bars, bars[1:], values, values[1:]):
                if v1 < v2:
                    self.assertLessEqual(h1, h2)

    @given(st.text(min_size=1, max_size=30), st.integers(1, 2 ** 31 - 1),
        st.one_of(st.none(), st.text(alphabet='0123456789abcdef',
                min_size=16, max_size=16)))
    def test_activation_code_typed_any_way(self, secret, id_, nonce):
        code = tools.activation_code(secret, id_, nonce)
        self.assertEqual(len(code), tools.CODE_LENGTH)
        self.assertTrue(set(code) <= set(tools.CODE_ALPHABET))
        self.assertEqual(code, tools.activation_code(secret, id_, nonce))
        printed = tools.format_code(code)
        arabic = ''.join(chr(0x660 + int(c)) if c.isdigit() else c
            for c in printed)
        for typed in [printed, printed.lower(), ' %s ' % code,
                printed.replace('-', ' '), arabic,
                code.replace('0', 'O').replace('1', 'l')]:
            self.assertEqual(tools.normalize_code(typed), code, typed)

    def test_activation_code_refused(self):
        for text in ['', 'ABCDE', 'ABCDE-FGHJK-M', 'ABCDE-FGHJU', '42.50',
                'ABCDE/FGHJK']:
            self.assertIsNone(tools.normalize_code(text), text)

    @given(st.integers(1, 2 ** 31 - 2))
    def test_activation_codes_differ(self, id_):
        "Neighbouring subscriptions and a renewal give unrelated codes"
        secret = 'secret'
        code = tools.activation_code(secret, id_, None)
        self.assertNotEqual(code, tools.activation_code(secret, id_ + 1, None))
        self.assertNotEqual(code, tools.activation_code(secret, id_, 'ab'))
        self.assertNotEqual(code, tools.activation_code('other', id_, None))

    def test_photo_reencoded(self):
        "A photo is stored anew: no metadata, nothing appended, turned"
        from PIL import Image
        exif = Image.Exif()
        exif[0x013b] = 'Mariam Attar'  # the artist
        exif[0x0112] = 6  # taken with the phone turned
        exif[0x8825] = {1: 'N', 2: (31.0, 30.0, 15.0)}  # GPS
        data = io.BytesIO()
        Image.new('RGB', (40, 30), (20, 90, 160)).save(
            data, 'JPEG', exif=exif)
        sent = data.getvalue() + b'<html><script>alert(1)</script>'
        self.assertTrue(tools.photo_format(sent))
        stored = tools.reencode_photo(sent)
        self.assertTrue(stored.startswith(b'\xff\xd8'))
        for hidden in [b'Mariam', b'<script', b'GPS']:
            self.assertNotIn(hidden, stored)
        with Image.open(io.BytesIO(stored)) as image:
            self.assertEqual(dict(image.getexif()), {})
            self.assertEqual(image.size, (30, 40))
        # a PNG, and a large photo scaled down
        self.assertTrue(tools.reencode_photo(png()))
        with Image.open(io.BytesIO(tools.reencode_photo(
                    png((4000, 3000))))) as image:
            self.assertEqual(image.size, (tools.PHOTO_MAX_SIDE,
                    tools.PHOTO_MAX_SIDE * 3 // 4))

    def test_photo_too_many_pixels(self):
        "An image of more pixels than a phone's is refused undecoded"
        from PIL import Image
        data = io.BytesIO()
        Image.new('1', (12000, 12000)).save(data, 'PNG')
        self.assertLess(len(data.getvalue()), tools.PHOTO_MAX_SIZE)
        self.assertIsNone(tools.reencode_photo(data.getvalue()))

    def test_tokens_kept_out_of_the_access_log(self):
        "The server's access log shows no token of an e-mailed link"
        from werkzeug._internal import _log
        line = ('GET /water/portal/reset/new?email=m%40example.com'
            '&token=0123abcd HTTP/1.1')
        with self.assertLogs('werkzeug', 'INFO') as logs:
            _log('info', '%s - - [%s] "%s" %s %s', '127.0.0.1', 'now', line,
                '200', '-')
            _log('info', 'GET /water/portal/contact/confirm?token=4567ef')
        output = '\n'.join(logs.output)
        self.assertNotIn('0123abcd', output)
        self.assertNotIn('4567ef', output)
        self.assertIn('email=m%40example.com&token=***', output)

    def test_photo_checked_by_its_bytes(self):
        self.assertEqual(tools.photo_format(png()), ('png', 'image/png'))
        self.assertIsNone(tools.photo_format(b'<html><script>x</script>'))
        self.assertIsNone(tools.photo_format(b'GIF89a' + b'\0' * 20))
        self.assertIsNone(tools.photo_format(b''))


class PortalTestCase(UtilityTestCase):
    "The subscriber portal's pages"
    db_name = DB_NAME
    # the pages are in Arabic first
    arabic = True

    @classmethod
    def setUpClass(cls):
        # the pages commit: the class's database is dropped after
        super().setUpClass()
        backend.Database._list_cache.clear()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        backend.Database._list_cache.clear()

    @classmethod
    def setUpDatabase(cls):
        "Two subscribers with two posted bills each, a portal request type"
        pool = Pool()
        Bill = pool.get('water.bill')
        Type = pool.get('water.request.type')
        Period = pool.get('water.reading.period')
        u = utility()
        area = u.area
        area.timezone = 'Asia/Gaza'
        area.save()
        subscriptions = billing.connect(area, u.route, u.domestic, 2)
        for month in MONTHS:
            bills = billing.create_bills(
                subscriptions, u.products, month=month)
            Bill.post(bills, invoice_date=add_months(month, 1))
        Period.schedule(dt.date.today().replace(day=1))
        # the first subscriber's e-mail is on file, the second's is not
        party = subscriptions[0].party
        party.contact_mechanisms += (
            Pool().get('party.contact_mechanism')(
                type='email', value='mariam.attar@example.com'),)
        party.save()
        leak = Type(base.model_data('request_type_leak'))
        leak.portal = True
        leak.save()
        cls.subscriptions = [(s.id, s.number) for s in subscriptions]
        cls.total = bills[0].invoice.total_amount
        cls.codes = [s.portal_code for s in subscriptions]
        cls.leak = leak.id

    def setUp(self):
        super().setUp()
        # a failed sign-in waits 2^n - 1 s against brute force: not here
        sleep = patch('trytond.modules.web_user.user.time.sleep')
        sleep.start()
        self.addCleanup(sleep.stop)
        self.configure('water_portal', 'url', PORTAL_URL)
        self.sent, self.notices = [], []
        mail = patch('trytond.modules.water_utility.routes.'
            'send_message_transactional', side_effect=self.capture)
        mail.start()
        self.addCleanup(mail.stop)
        # the pages commit: each test starts without the attempts (wrong
        # passwords, proofs, codes sent) of the tests before it
        self.forget_attempts()

    def configure(self, section, option, value):
        "Set an option of trytond's configuration for this test"
        if not config.has_section(section):
            config.add_section(section)
        old = config.get(section, option)
        if old is None:
            self.addCleanup(config._cache_clear)
            self.addCleanup(config._config.remove_option, section, option)
        else:
            self.addCleanup(config.set, section, option, old)
        config.set(section, option, value)

    # --- helpers
    def client(self):
        return Client(app, Response)

    def url(self, *parts):
        return '/%s/portal/%s' % (self.db_name, '/'.join(map(str, parts)))

    def csrf(self, client, path):
        "The CSRF token of the form of the page"
        response = client.get(self.url(path) if isinstance(path, str)
            else self.url(*path))
        self.assertEqual(response.status_code, 200, response.text)
        return re.search(r'name="csrf" value="([0-9a-f]+)"',
            response.text).group(1)

    def signup(self, client, email, subscription=0, code=None):
        _, number = self.subscriptions[subscription]
        return client.post(self.url('signup'), data={
                'csrf': self.csrf(client, 'signup'),
                'number': number,
                'activation': code or self.codes[subscription],
                'email': email,
                'password': PASSWORD,
                })

    def signed_up(self, email, subscription=0):
        client = self.client()
        response = self.signup(client, email, subscription)
        self.assertEqual(response.status_code, 303, response.text)
        return client

    # --- signing up and in
    def test_signup_then_pages(self):
        "A subscriber proves the subscription, then reads bills and statement"
        client = self.client()
        response = client.get(self.url(''))
        self.assertEqual(response.status_code, 303)
        self.assertIn('/portal/login', response.location)

        response = self.signup(client, 'Mariam@Example.com')
        subscription_id, number = self.subscriptions[0]
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.location.endswith('/s/%s' % subscription_id))
        cookie = client.get_cookie(SESSION_COOKIE,
            path='/%s/portal/' % self.db_name)
        self.assertTrue(cookie.http_only)

        page = client.get(self.url('s', subscription_id))
        self.assertEqual(page.status_code, 200)
        self.assertIn('dir="rtl"', page.text)
        self.assertIn('lang="ar"', page.text)
        self.assertIn('الاشتراك %s' % number, page.text)
        self.assertIn('فواتير للدفع', page.text)
        self.assertEqual(page.headers['X-Content-Type-Options'], 'nosniff')
        self.assertIn("frame-ancestors 'none'",
            page.headers['Content-Security-Policy'])
        self.assertLess(len(page.data), 100 * 1024)
        bills = re.findall(r'/bill/(\d+)\.pdf', page.text)
        self.assertTrue(bills)

        pdf = client.get(self.url('s', subscription_id, 'bill',
                '%s.pdf' % bills[0]))
        self.assertEqual(pdf.status_code, 200)
        self.assertEqual(pdf.mimetype, 'application/pdf')
        self.assertTrue(pdf.data.startswith(b'%PDF'))

        consumption = client.get(
            self.url('s', subscription_id, 'consumption.csv'))
        self.assertEqual(consumption.mimetype, 'text/csv')
        lines = consumption.data.decode('utf-8-sig').splitlines()
        self.assertEqual(lines[0].split(',')[0], 'الشهر')
        self.assertEqual([l.split(',')[0] for l in lines[1:]],
            [m.strftime('%Y-%m') for m in MONTHS])

        statement = client.get(self.url('s', subscription_id, 'statement'))
        self.assertEqual(statement.status_code, 200)
        self.assertIn('كشف الحساب', statement.text)

        home = client.get(self.url(''))
        self.assertIn('/portal/s/%s"' % subscription_id, home.text)

        # in English on request
        client.get(self.url('lang', 'en'))
        page = client.get(self.url('s', subscription_id))
        self.assertIn('dir="ltr"', page.text)
        self.assertIn('Bills to pay', page.text)

    def test_behind_a_proxy(self):
        "Behind a TLS proxy: cookies for https only, limits per subscriber"
        client = self.signed_up('proxied@example.com')
        cookie = client.get_cookie(SESSION_COOKIE,
            path='/%s/portal/' % self.db_name)
        self.assertTrue(cookie.secure)

        # [web] num_proxies = 1: the address is the one the proxy forwards
        proxied = Client(ProxyFix(app, x_for=1, x_proto=1, x_host=1),
            Response)
        headers = {'X-Forwarded-For': '203.0.113.7',
            'X-Forwarded-Proto': 'https'}
        response = proxied.get(self.url('login'), headers=headers)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"',
            response.text).group(1)
        response = proxied.post(self.url('login'), headers=headers, data={
                'csrf': csrf, 'email': 'proxied@example.com',
                'password': 'wrong'})
        self.assertEqual(response.status_code, 401)
        with Transaction().start(DB_NAME, 0):
            Attempt = Pool().get('web.user.authenticate.attempt')
            attempt, = Attempt.search(
                [('login', '=', 'proxied@example.com')])
            self.assertEqual(attempt.ip_address, '203.0.113.7')

    def test_login_logout(self):
        "Signing in with the password, out with the button"
        self.signed_up('login@example.com')
        client = self.client()
        response = client.post(self.url('login'), data={
                'csrf': self.csrf(client, 'login'),
                'email': 'login@example.com', 'password': 'wrong'})
        self.assertEqual(response.status_code, 401)
        self.assertIn('غير صحيحة', response.text)
        response = client.post(self.url('login'), data={
                'csrf': self.csrf(client, 'login'),
                'email': 'LOGIN@example.com', 'password': PASSWORD})
        self.assertEqual(response.status_code, 303)
        self.assertEqual(client.get(self.url('')).status_code, 200)

        response = client.post(self.url('logout'), data={
                'csrf': self.csrf(client, '')})
        self.assertEqual(response.status_code, 303)
        self.assertEqual(client.get(self.url('')).status_code, 303)

    def test_wrong_proof_refused_then_locked(self):
        "A wrong code is refused; after a few tries the number is locked"
        client = self.client()
        # the other subscription's code, the latest bill's total
        for wrong in [self.codes[1], str(self.total)]:
            response = self.signup(client, 'guess@example.com', code=wrong)
            self.assertEqual(response.status_code, 400)
            self.assertIn('لا يطابقان', response.text)
        for _ in range(5):
            response = self.signup(client, 'guess@example.com',
                code='0000000000')
        self.assertEqual(response.status_code, 429)
        # even the right code, now
        response = self.signup(client, 'guess@example.com')
        self.assertEqual(response.status_code, 429)
        with Transaction().start(DB_NAME, 0):
            WebUser = Pool().get('web.user')
            self.assertFalse(
                WebUser.search([('email', '=', 'guess@example.com')]))

    def test_forged_form_refused(self):
        "A form without the token of the session is refused, nothing saved"
        client = self.signed_up('forged@example.com')
        subscription_id, _ = self.subscriptions[0]
        response = client.post(self.url('s', subscription_id, 'request'),
            data={'csrf': 'f' * 64, 'type': str(self.leak),
                'description': "forged"})
        self.assertEqual(response.status_code, 400)
        self.assertIn('انتهت صلاحية', response.text)
        response = self.client().post(self.url('signup'), data={
                'number': self.subscriptions[0][1],
                'activation': self.codes[0],
                'email': 'x@example.com', 'password': PASSWORD})
        self.assertEqual(response.status_code, 400)
        with Transaction().start(DB_NAME, 0):
            Request = Pool().get('water.request')
            self.assertFalse(Request.search(
                    [('description', '=', "forged")]))

    # --- passwords and contact details
    def mails(self):
        """The e-mails the pages sent, captured; the holders' notices of a
        new login are apart, in self.notices"""
        return self.sent

    def capture(self, message):
        if message['X-Water-Portal'] == 'linked':
            self.notices.append(message)
        else:
            self.sent.append(message)

    def link(self, message):
        "The path of the link of the e-mail, on the configured portal"
        url = re.search(r'(https?://\S+)', message.get_content()).group(1)
        self.assertTrue(url.startswith(PORTAL_URL + '/'), url)
        return url[len(PORTAL_URL):]

    def test_password_reset(self):
        "A link by e-mail to choose a new password, once"
        sent = self.mails()
        self.signed_up('forgot@example.com')
        client = self.client()
        response = client.post(self.url('reset'), data={
                'csrf': self.csrf(client, 'reset'),
                'email': 'nobody@example.com'})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(sent, [])
        response = client.post(self.url('reset'), data={
                'csrf': self.csrf(client, 'reset'),
                'email': 'Forgot@example.com'})
        self.assertIn('إذا كان هناك حساب', response.text)
        message, = sent
        self.assertEqual(message['To'], 'forgot@example.com')
        # Arabic first, English below
        body = message.get_content()
        self.assertLess(body.index('كلمة مرور جديدة'),
            body.index('new password'))
        link = self.link(message)
        page = client.get(link)
        self.assertEqual(page.status_code, 200)
        form = dict(re.findall(
                r'name="(email|token|csrf)" value="([^"]*)"', page.text))
        response = client.post(self.url('reset', 'new'),
            data={**form, 'password': 'short'})
        self.assertEqual(response.status_code, 400)
        response = client.post(self.url('reset', 'new'),
            data={**form, 'password': 'New-Water-2027'})
        self.assertEqual(response.status_code, 303)
        response = client.post(self.url('login'), data={
                'csrf': self.csrf(client, 'login'),
                'email': 'forgot@example.com', 'password': 'New-Water-2027'})
        self.assertEqual(response.status_code, 303)
        # the link served once
        other = self.client()
        response = other.post(self.url('reset', 'new'), data={
                **form, 'csrf': self.csrf(other, link.split('/portal/')[1]),
                'password': 'Another-2027'})
        self.assertEqual(response.status_code, 400)
        self.assertIn('انتهت صلاحية', response.text)

    def reset_link(self, client, email, sent):
        "The form of the link e-mailed to choose a new password"
        client.post(self.url('reset'), data={
                'csrf': self.csrf(client, 'reset'), 'email': email})
        page = client.get(self.link(sent[-1]))
        return dict(re.findall(
                r'name="(email|token|csrf)" value="([^"]*)"', page.text))

    def test_reset_ends_sessions(self):
        "A new password signs out every session of the account"
        sent = self.mails()
        stolen = self.signed_up('stolen@example.com')
        self.assertEqual(stolen.get(self.url('')).status_code, 200)
        owner = self.client()
        form = self.reset_link(owner, 'stolen@example.com', sent)
        response = owner.post(self.url('reset', 'new'),
            data={**form, 'password': 'Mine-Again-2027'})
        self.assertEqual(response.status_code, 303)
        response = stolen.get(self.url(''))
        self.assertEqual(response.status_code, 303)
        self.assertIn('/portal/login', response.location)

    def test_reset_guesses_capped(self):
        "Wrong reset tokens are capped, and the owner still signs in"
        sent = self.mails()
        self.signed_up('guessed@example.com')
        client = self.client()
        form = self.reset_link(client, 'guessed@example.com', sent)
        wrong = {**form, 'token': '0' * len(form['token']),
            'password': 'Guessed-2027'}
        statuses = [client.post(self.url('reset', 'new'), data=wrong
                ).status_code for _ in range(8)]
        self.assertEqual(statuses[:6], [400] * 6)
        self.assertEqual(statuses[-1], 429)
        # even the right token, now
        response = client.post(self.url('reset', 'new'),
            data={**form, 'password': 'Guessed-2027'})
        self.assertEqual(response.status_code, 429)
        # the owner's sign-in is another count
        response = client.post(self.url('login'), data={
                'csrf': self.csrf(client, 'login'),
                'email': 'guessed@example.com', 'password': PASSWORD})
        self.assertEqual(response.status_code, 303)

    def test_links_from_configured_address(self):
        "An e-mail's link is the configured portal's, whatever Host is sent"
        sent = self.mails()
        self.signed_up('host@example.com')
        client = self.client()
        evil = 'http://evil.example/'
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(
                self.url('reset'), base_url=evil).text).group(1)
        response = client.post(self.url('reset'), base_url=evil, data={
                'csrf': csrf, 'email': 'host@example.com'})
        self.assertEqual(response.status_code, 200, response.text)
        message, = sent
        self.assertNotIn('evil', message.get_content())
        self.assertTrue(self.link(message).startswith(
                '/%s/portal/reset/new?' % self.db_name.replace(':', '%3A')))

        # without a configured address, no link is sent at all
        self.configure('water_portal', 'url', '')
        sent.clear()
        self.signed_up('unconfigured@example.com')
        with self.assertLogs('trytond.modules.water_utility.routes',
                'ERROR'):
            response = client.post(self.url('reset'), base_url=evil, data={
                    'csrf': csrf, 'email': 'unconfigured@example.com'})
        self.assertEqual(response.status_code, 503)
        self.assertIn('لا يمكننا إرسال رابط', response.text)
        self.assertEqual(sent, [])
        with Transaction().start(DB_NAME, 0):
            WebUser = Pool().get('web.user')
            user, = WebUser.search(
                [('email', '=', 'unconfigured@example.com')])
            self.assertFalse(user.reset_password_token)

    def test_contact_details(self):
        "Phone and e-mail change with the password; the e-mail by its link"
        sent = self.mails()
        client = self.signed_up('contact@example.com')
        response = client.post(self.url('contact'), data={
                'csrf': self.csrf(client, 'contact'),
                'phone': '0599 111 222', 'password': 'wrong'})
        self.assertEqual(response.status_code, 400)
        response = client.post(self.url('contact'), data={
                'csrf': self.csrf(client, 'contact'),
                'phone': 'not a phone', 'password': PASSWORD})
        self.assertEqual(response.status_code, 400)
        self.assertIn('رقم الجوال غير صحيح', response.text)
        response = client.post(self.url('contact'), data={
                'csrf': self.csrf(client, 'contact'),
                'phone': '+970 599 111 222', 'email': 'new@example.com',
                'password': PASSWORD})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn('new@example.com', response.text)
        message, = sent
        self.assertEqual(message['To'], 'new@example.com')
        with Transaction().start(DB_NAME, 0):
            WebUser = Pool().get('web.user')
            user, = WebUser.search([('email', '=', 'contact@example.com')])
            mobiles = [m.value for m in user.party.contact_mechanisms
                if m.type == 'mobile']
            self.assertEqual(len([m for m in mobiles if '599111222' in
                        m.replace(' ', '')]), 1, mobiles)
        # the link asks for a button: a mail scanner opening it changes nothing
        link = self.link(message)
        anonymous = self.client()
        page = anonymous.get(link)
        self.assertEqual(page.status_code, 200)
        token = re.search(r'name="token" value="([^"]*)"', page.text).group(1)
        response = anonymous.post(self.url('contact', 'confirm'), data={
                'csrf': re.search(r'name="csrf" value="([^"]*)"',
                    page.text).group(1), 'token': token})
        self.assertEqual(response.status_code, 303)
        response = anonymous.post(self.url('login'), data={
                'csrf': self.csrf(anonymous, 'login'),
                'email': 'new@example.com', 'password': PASSWORD})
        self.assertEqual(response.status_code, 303)

    def test_signup_with_code(self):
        "Without a bill: a code sent to the e-mail on file, used once"
        sent = self.mails()
        client = self.client()
        response = client.post(self.url('signup', 'code'), data={
                'csrf': self.csrf(client, 'signup'),
                'number': self.subscriptions[1][1]})
        self.assertEqual(response.status_code, 400)
        self.assertIn('لا يمكننا إرسال رمز', response.text)
        self.assertEqual(sent, [])

        number = self.subscriptions[0][1]
        response = client.post(self.url('signup', 'code'), data={
                'csrf': self.csrf(client, 'signup'), 'number': number})
        self.assertEqual(response.status_code, 200)
        self.assertIn('m***@example.com', response.text)
        message, = sent
        self.assertEqual(message['To'], 'mariam.attar@example.com')
        code = re.search(r'(\d{6})', message.get_content()).group(1)
        form = {'csrf': self.csrf(client, 'signup'), 'number': number,
            'email': 'coded@example.com', 'password': PASSWORD}
        wrong = '%06d' % ((int(code) + 1) % 10 ** 6)
        response = client.post(self.url('signup', 'code', 'verify'),
            data={**form, 'code': wrong})
        self.assertEqual(response.status_code, 400)
        response = client.post(self.url('signup', 'code', 'verify'),
            data={**form, 'code': code})
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.location.endswith(
                '/s/%s' % self.subscriptions[0][0]))
        # used up
        other = self.client()
        response = other.post(self.url('signup', 'code', 'verify'),
            data={**form, 'csrf': self.csrf(other, 'signup'), 'code': code,
                'email': 'again@example.com'})
        self.assertEqual(response.status_code, 400)
        self.assertIn('الرمز غير صحيح', response.text)

    def forget_attempts(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            Attempt = Pool().get('web.user.authenticate.attempt')
            transaction.connection.cursor().execute(
                *Attempt.__table__().delete())
            transaction.commit()

    def test_codes_capped(self):
        "A few codes per subscription and per network: no mail bomb"
        sent = self.mails()
        client = self.client()
        number = self.subscriptions[0][1]

        def ask(client, number):
            return client.post(self.url('signup', 'code'), data={
                    'csrf': self.csrf(client, 'signup'), 'number': number})
        self.assertEqual([ask(client, number).status_code for _ in range(4)],
            [200, 200, 200, 429])
        self.assertEqual(len(sent), 3)
        # the last code sent still works
        code = re.search(r'(\d{6})', sent[-1].get_content()).group(1)
        response = client.post(self.url('signup', 'code', 'verify'), data={
                'csrf': self.csrf(client, 'signup'), 'number': number,
                'code': code, 'email': 'capped@example.com',
                'password': PASSWORD})
        self.assertEqual(response.status_code, 303)
        # numbers without an e-mail on file count too, up to the network's cap
        other = self.client()
        statuses = [ask(other, '9%05d' % i).status_code for i in range(8)]
        self.assertEqual(statuses, [400] * 7 + [429])
        self.assertEqual(len(sent), 3)

    # --- nobody sees another's data
    def test_other_subscribers_data_not_found(self):
        "Another's subscription, bill or request, or a guessed id: 404"
        mine = self.signed_up('mine@example.com', 0)
        theirs = self.signed_up('theirs@example.com', 1)
        my_id, _ = self.subscriptions[0]
        their_id, _ = self.subscriptions[1]
        page = theirs.get(self.url('s', their_id))
        their_bill = re.findall(r'/bill/(\d+)\.pdf', page.text)[0]
        my_page = mine.get(self.url('s', my_id))
        my_bill = re.findall(r'/bill/(\d+)\.pdf', my_page.text)[0]
        response = theirs.post(self.url('s', their_id, 'request'), data={
                'csrf': self.csrf(theirs, ('s', their_id, 'request')),
                'type': str(self.leak), 'description': "تسريب أمام البيت"})
        their_request = response.location.rsplit('/', 1)[1]

        for path in [
                ('s', their_id),
                ('s', their_id, 'statement'),
                ('s', their_id, 'statement.pdf'),
                ('s', their_id, 'bill', '%s.pdf' % their_bill),
                # my subscription with their bill, their request
                ('s', my_id, 'bill', '%s.pdf' % their_bill),
                ('s', my_id, 'request', their_request),
                ('s', their_id, 'request', their_request),
                ('s', their_id, 'reading'),
                ('s', 999999),
                ('s', my_id, 'bill', '999999.pdf'),
                # ids the database cannot hold
                ('s', 2 ** 31),
                ('s', my_id, 'request', 2 ** 63),
                ('s', my_id, 'bill', '%s.pdf' % 2 ** 64),
                ]:
            response = mine.get(self.url(*path))
            self.assertEqual(response.status_code, 404, path)
            self.assertIn('لا تخصك', response.text)
            self.assertNotIn('Traceback', response.text)
        self.assertEqual(mine.get(self.url('s', my_id, 'bill',
                    '%s.pdf' % my_bill)).status_code, 200)
        # a tampered id in a form
        response = mine.post(self.url('s', their_id, 'reading'), data={
                'csrf': self.csrf(mine, ''), 'value': '12'})
        self.assertEqual(response.status_code, 404)
        response = mine.post(self.url('s', my_id, 'request', 10 ** 30,
                'reopen'), data={'csrf': self.csrf(mine, ''), 'reason': 'x'})
        self.assertEqual(response.status_code, 404)

    def test_expired_session(self):
        "An expired session sends to the sign-in page"
        client = self.signed_up('expired@example.com')
        with Transaction().start(DB_NAME, 0) as transaction:
            Session = Pool().get('web.user.session')
            sessions = Session.search([('user.email', '=',
                        'expired@example.com')])
            table = Session.__table__()
            transaction.connection.cursor().execute(*table.update(
                    [table.create_date, table.write_date],
                    [dt.datetime(2020, 1, 1), None],
                    where=table.id.in_([s.id for s in sessions])))
            transaction.commit()
        response = client.get(self.url(''))
        self.assertEqual(response.status_code, 303)
        self.assertIn('/portal/login', response.location)

    def test_add_second_subscription(self):
        "One login holds two subscriptions, each proved"
        client = self.signed_up('two@example.com', 0)
        _, number = self.subscriptions[1]
        response = client.post(self.url('add'), data={
                'csrf': self.csrf(client, 'add'),
                'number': number, 'activation': self.codes[1]})
        self.assertEqual(response.status_code, 303)
        home = client.get(self.url(''))
        for subscription_id, _ in self.subscriptions:
            self.assertIn('/portal/s/%s"' % subscription_id, home.text)

    def test_holder_told_and_staff_revoke(self):
        "The holder hears of a new login; the desk removes it, renews the code"
        subscription_id, number = self.subscriptions[0]
        client = self.signed_up('newcomer@example.com', 0)
        message, = self.notices
        self.assertEqual(message['To'], 'mariam.attar@example.com')
        self.assertIn(number, message.get_content())
        self.assertIn('n***@example.com', message.get_content())
        self.assertNotIn('newcomer@', message.get_content())

        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Subscription = pool.get('water.subscription')
            Link = pool.get('web.user-water.subscription')
            subscription = Subscription(subscription_id)
            links = [l for l in subscription.portal_logins
                if l.email == 'newcomer@example.com']
            self.assertEqual(len(links), 1)
            Link.delete(links)
            nonce = subscription.portal_nonce
            Subscription.renew_portal_code([subscription])
            code = subscription.portal_code
            transaction.commit()
        self.addCleanup(self.restore_nonce, subscription_id, nonce)
        self.assertNotEqual(code, self.codes[0])
        self.assertEqual(
            client.get(self.url('s', subscription_id)).status_code, 404)

        # the code printed before no longer works, the new one does
        response = self.signup(self.client(), 'renewed@example.com')
        self.assertEqual(response.status_code, 400)
        response = self.signup(self.client(), 'renewed@example.com',
            code=code)
        self.assertEqual(response.status_code, 303)
        # the second subscriber has no e-mail on file: nobody to tell
        self.signed_up('second@example.com', 1)
        self.assertEqual(len(self.notices), 2)

    def test_code_shown_to_the_desk_only(self):
        "The desk reads the activation code; a meter reader does not"
        subscription_id, _ = self.subscriptions[0]
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            User = pool.get('res.user')
            company = pool.get('water.subscription')(
                subscription_id).company
            users = User.create([{
                        'login': 'desk-%s' % group, 'name': group,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        'groups': [('add', [base.model_data(group)])],
                        } for group in ['group_water_billing',
                        'group_water_complaints', 'group_water_reader']])
            transaction.commit()
            ids = [u.id for u in users]
        for user_id, allowed in zip(ids, [True, True, False]):
            with Transaction().start(DB_NAME, user_id,
                    context={'_check_access': True}):
                Subscription = Pool().get('water.subscription')
                read = lambda: Subscription.read(  # noqa: E731
                    [subscription_id], ['portal_code'])
                if allowed:
                    self.assertEqual(read()[0]['portal_code'],
                        self.codes[0])
                else:
                    self.assertRaises(AccessError, read)
                    # the form opens, without the code
                    view = Subscription.fields_view_get(view_type='form')
                    self.assertNotIn('portal_code', view['fields'])
                    self.assertNotIn('name="portal_code"', view['arch'])
                    # nor the secret, by any user
                    Secret = Pool().get('water.portal.secret')
                    self.assertRaises(AccessError, Secret.search, [])

    def restore_nonce(self, subscription_id, nonce):
        with Transaction().start(DB_NAME, 0) as transaction:
            Subscription = Pool().get('water.subscription')
            Subscription.write([Subscription(subscription_id)],
                {'portal_nonce': nonce})
            transaction.commit()

    # --- requests and readings
    def test_request_with_photo(self):
        "A complaint with a photo, followed with its deadline"
        client = self.signed_up('request@example.com')
        subscription_id, _ = self.subscriptions[0]
        path = ('s', subscription_id, 'request')
        response = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path),
                'type': str(self.leak),
                'description': "<b>تسريب</b> في الشارع",
                'photo': (io.BytesIO(png()), 'leak.png'),
                }, content_type='multipart/form-data')
        self.assertEqual(response.status_code, 303, response.text)
        page = client.get(response.location)
        self.assertEqual(page.status_code, 200)
        self.assertIn('&lt;b&gt;تسريب&lt;/b&gt;', page.text)
        self.assertIn('موعد الرد', page.text)
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Request = pool.get('water.request')
            Attachment = pool.get('ir.attachment')
            request, = Request.search([
                    ('description', '=', "<b>تسريب</b> في الشارع")])
            self.assertEqual(request.channel, 'portal')
            # the deadline on Gaza's clock, not the server's UTC
            deadline = request.deadline.replace(
                tzinfo=dt.timezone.utc).astimezone(ZoneInfo('Asia/Gaza'))
            # (the language's format keeps date and time together)
            self.assertIn(deadline.strftime('%d/%m/%Y\xa0%H:%M'), page.text)
            photo, = Attachment.search([('resource', '=', str(request))])
            # stored anew, as a JPEG
            self.assertEqual(photo.name, 'photo.jpg')
            self.assertTrue(photo.data.startswith(b'\xff\xd8'))

    def staff(self, request_id, *actions, answer=None):
        "The complaints officer works the request (committed)"
        with Transaction().start(DB_NAME, 1) as transaction:
            Request = Pool().get('water.request')
            request = Request(request_id)
            if answer:
                request.answer = answer
                request.save()
            for action in actions:
                getattr(Request, action)([request])
            transaction.commit()

    def test_answer_reopen_survey(self):
        "The answer is read, the request reopened, then the survey answered"
        client = self.signed_up('answer@example.com')
        subscription_id, _ = self.subscriptions[0]
        path = ('s', subscription_id, 'request')
        response = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path), 'type': str(self.leak),
                'description': "ضعف في ضغط المياه"})
        request_id = int(response.location.rsplit('/', 1)[1])
        page_path = path + (request_id,)
        page = client.get(self.url(*page_path))
        self.assertNotIn('لم تُحل المشكلة؟', page.text)

        self.staff(request_id, 'start', 'resolve',
            answer="تم تنظيف المصفاة عند العداد.")
        page = client.get(self.url(*page_path))
        self.assertIn('تم تنظيف المصفاة عند العداد.', page.text)
        self.assertIn('لم تُحل المشكلة؟', page.text)
        response = client.post(self.url(*page_path, 'reopen'), data={
                'csrf': self.csrf(client, page_path), 'reason': ''})
        self.assertEqual(response.status_code, 400)
        response = client.post(self.url(*page_path, 'reopen'), data={
                'csrf': self.csrf(client, page_path),
                'reason': "الضغط ما زال ضعيفاً مساءً"})
        self.assertEqual(response.status_code, 303)

        self.staff(request_id, 'resolve', 'close',
            answer="استُبدل المحبس الرئيسي.")
        page = client.get(self.url(*page_path))
        self.assertIn('كيف كانت خدمتنا؟', page.text)
        response = client.post(self.url(*page_path, 'survey'), data={
                'csrf': self.csrf(client, page_path), 'score': '9'})
        self.assertEqual(response.status_code, 400)
        response = client.post(self.url(*page_path, 'survey'), data={
                'csrf': self.csrf(client, page_path), 'score': '4',
                'comment': "شكراً"})
        self.assertEqual(response.status_code, 303)
        page = client.get(self.url(*page_path))
        self.assertNotIn('كيف كانت خدمتنا؟', page.text)
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Request = pool.get('water.request')
            Survey = pool.get('water.survey.satisfaction')
            request = Request(request_id)
            self.assertEqual(request.reopen_count, 1)
            survey, = Survey.search([('request', '=', request_id)])
            self.assertEqual((survey.state, survey.score, survey.channel),
                ('answered', 4, 'portal'))

    def test_upload_not_a_photo_or_too_large(self):
        "HTML posing as a photo, a file too large, too many pixels: refused"
        client = self.signed_up('upload@example.com')
        subscription_id, _ = self.subscriptions[0]
        path = ('s', subscription_id, 'request')
        response = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path), 'type': str(self.leak),
                'description': "not a photo",
                'photo': (io.BytesIO(b'<html><script>alert(1)</script>'),
                    'leak.png'),
                }, content_type='multipart/form-data')
        self.assertEqual(response.status_code, 400)
        self.assertIn('JPEG', response.text)
        response = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path), 'type': str(self.leak),
                'description': "too large",
                'photo': (io.BytesIO(b'\0' * (tools.PHOTO_MAX_SIZE + 1)),
                    'big.jpg'),
                }, content_type='multipart/form-data')
        self.assertEqual(response.status_code, 413)
        from PIL import Image
        huge = io.BytesIO()
        Image.new('1', (12000, 12000)).save(huge, 'PNG')
        huge.seek(0)
        response = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path), 'type': str(self.leak),
                'description': "too many pixels",
                'photo': (huge, 'huge.png'),
                }, content_type='multipart/form-data')
        self.assertEqual(response.status_code, 400)
        self.assertIn('24 ميغابكسل', response.text)
        with Transaction().start(DB_NAME, 0):
            Request = Pool().get('water.request')
            self.assertFalse(Request.search([
                        ('description', 'in', ["not a photo", "too large",
                                "too many pixels"]),
                        ]))

    def test_self_reading(self):
        "A self-reading enters the validation of every reading"
        client = self.signed_up('reading@example.com')
        subscription_id, _ = self.subscriptions[0]
        path = ('s', subscription_id, 'reading')
        response = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path), 'value': '١٢',
                'photo': (io.BytesIO(png()), 'dial.png'),
                }, content_type='multipart/form-data')
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn('استُلمت القراءة 12', response.text)
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Reading = pool.get('water.reading')
            Attachment = pool.get('ir.attachment')
            reading, = Reading.search([
                    ('subscription', '=', subscription_id),
                    ('source', '=', 'portal')])
            self.assertEqual(reading.value, Decimal(12))
            self.assertTrue(reading.state in {'valid', 'held'})
            self.assertEqual(reading.reader, 'portal:reading@example.com')
            self.assertTrue(Attachment.search(
                    [('resource', '=', str(reading))]))
        response = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path), 'value': 'twelve'})
        self.assertEqual(response.status_code, 400)

    def portal_requests(self, subscription_id):
        "The number of requests the portal received for the subscription"
        with Transaction().start(DB_NAME, 0):
            Request = Pool().get('water.request')
            return Request.search([
                    ('subscription', '=', subscription_id),
                    ('channel', '=', 'portal'),
                    ], count=True)

    def test_daily_caps(self):
        "One subscription's requests, readings and photos are capped a day"
        client = self.signed_up('busy@example.com', 1)
        subscription_id, _ = self.subscriptions[1]
        before = self.portal_requests(subscription_id)
        self.configure('water_portal', 'max_requests_day', str(before + 2))
        path = ('s', subscription_id, 'request')

        def send(photo=None):
            data = {'csrf': self.csrf(client, path), 'type': str(self.leak),
                'description': "تسريب مرة أخرى"}
            if photo:
                data['photo'] = (io.BytesIO(photo), 'leak.png')
            return client.post(self.url(*path), data=data,
                content_type='multipart/form-data').status_code
        self.assertEqual([send(), send(), send()], [303, 303, 429])
        self.assertEqual(self.portal_requests(subscription_id), before + 2)
        page = client.post(self.url(*path), data={
                'csrf': self.csrf(client, path), 'type': str(self.leak),
                'description': "x"})
        self.assertIn('أقصى ما نقبله', page.text)

        # photos: their bytes of the day
        self.configure('water_portal', 'max_requests_day', '1000')
        self.configure('water_portal', 'max_photo_bytes_day', '100')
        self.assertEqual(send(png((400, 300))), 429)
        self.assertEqual(send(), 303)

        # readings
        self.configure('water_portal', 'max_readings_day', '2')
        path = ('s', subscription_id, 'reading')
        statuses = [client.post(self.url(*path), data={
                    'csrf': self.csrf(client, path), 'value': str(value),
                    }).status_code for value in [20, 21, 22]]
        self.assertEqual(statuses[-1], 429)
        with Transaction().start(DB_NAME, 0):
            Reading = Pool().get('water.reading')
            self.assertLessEqual(Reading.search([
                        ('subscription', '=', subscription_id),
                        ('source', '=', 'portal'),
                        ], count=True), 2)

    @unittest.skipUnless(SHIPPED_CONFIG.exists(), "not in the repository")
    def test_shipped_configuration(self):
        "The shipped configuration lists no database to a stranger"
        shipped = configparser.RawConfigParser()
        shipped.read(SHIPPED_CONFIG)
        self.configure('database', 'list', shipped.get('database', 'list'))
        self.assertTrue(shipped.get('water_portal', 'url'))
        response = self.client().post('/rpc/', data=json.dumps({
                    'id': 1, 'method': 'common.db.list', 'params': []}),
            content_type='application/json')
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(self.db_name, response.text)

    def test_unknown_address_friendly(self):
        "An unknown address or a GET of a form's action: the friendly page"
        client = self.client()
        for path in ['no/such/page', 'logout', 'signup/code']:
            response = client.get(self.url(path))
            self.assertEqual(response.status_code, 404, path)
            self.assertIn('لا تخصك', response.text)

    def test_module_not_activated_elsewhere(self):
        "The portal of a database that does not exist is not found"
        response = self.client().get('/no_such_db/portal/login')
        self.assertEqual(response.status_code, 404)
