# This file is part of the water_utility module.  See README.rst.
"""The subscriber portal in a browser, as a subscriber uses it on a phone

Run by `make e2e` (and by `make test`) against a demo of its own: 30
subscriptions built by tools/demo.py into a temporary folder (or copied
from E2E_CACHE, where make test keeps the demo of the day), served by
trytond on a free port, both removed after.  With PORTAL_URL (and
PORTAL_DATABASE, default water) the tests run against that server instead,
for instance make run's: `PORTAL_URL=http://127.0.0.1:8000 make e2e`; when
nothing answers there, they start `trytond -c config/trytond.conf` on
make run's database themselves and stop it after.  Headless Chromium is
Debian's (/usr/bin/chromium, or $CHROMIUM), driven by Playwright; the
screenshots of every step are kept in screenshots/portal/ (not committed).

Not in the module's unittest discovery (this folder is not a package): these
tests need a demo database and a server.
"""
import io
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / 'tools'))
import demo  # noqa: E402

CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
SHOTS = ROOT / 'screenshots' / 'portal'
DEMO_EMAIL = 'subscriber@example.com'
DEMO_SUBSCRIPTIONS = 30
PHONE = {
    'viewport': {'width': 390, 'height': 844},
    'is_mobile': True,
    'has_touch': True,
    'locale': 'ar',
    }
SERVER = os.environ.get('PORTAL_URL', '').rstrip('/')
DATABASE = os.environ.get('PORTAL_DATABASE', 'water' if SERVER else 'e2e')
PORTAL = None
LOGINS = ROOT / 'sites' / 'logins.txt'
_server = None
_workdir = None


def answering(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def own_demo(workdir):
    """Build the demo into workdir, or copy the one of the day from
    E2E_CACHE (made by an earlier run: the demo depends on the date)"""
    files = [f'{DATABASE}.sqlite', 'logins.txt']
    cache = os.environ.get('E2E_CACHE')
    day = demo.local_today().isoformat()
    if cache:
        cached = Path(cache) / day
        if all((cached / f).exists() for f in files):
            for f in files:
                shutil.copy2(cached / f, workdir / f)
            return
    env = dict(os.environ,
        TRYTOND_DATABASE__URI='sqlite://',
        TRYTOND_DATABASE__PATH=str(workdir),
        TRYTON_ADMIN_PASSWORD=secrets.token_urlsafe(12),
        TRYTON_DEMO_PASSWORD=secrets.token_urlsafe(12))
    log = workdir / 'demo.log'
    with log.open('w') as output:
        built = subprocess.run([sys.executable, str(ROOT / 'tools' / 'demo.py'),
                '--database', DATABASE,
                '--subscriptions', str(DEMO_SUBSCRIPTIONS),
                '--config', str(ROOT / 'config' / 'trytond.conf'),
                '--logins', str(workdir / 'logins.txt')],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    if built.returncode:
        raise RuntimeError(
            f"the demo of the browser tests failed:\n{log.read_text()}")
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
        cached.mkdir(parents=True)
        for f in files:
            shutil.copy2(workdir / f, cached / f)


def setUpModule():
    global _server, _workdir, PORTAL, LOGINS
    configs = [str(ROOT / 'config' / 'trytond.conf')]
    env = dict(os.environ)
    if SERVER:
        server = SERVER
    else:
        _workdir = Path(tempfile.mkdtemp(prefix='water-e2e-'))
        own_demo(_workdir)
        LOGINS = _workdir / 'logins.txt'
        server = f'http://127.0.0.1:{free_port()}'
        config = _workdir / 'e2e.conf'
        config.write_text(f'[web]\nlisten = {server[len("http://"):]}\n')
        configs.append(str(config))
        env.update(TRYTOND_DATABASE__URI='sqlite://',
            TRYTOND_DATABASE__PATH=str(_workdir))
    PORTAL = f'{server}/{DATABASE}/portal/'
    if answering(PORTAL + 'login'):
        return
    _server = subprocess.Popen(
        [str(ROOT / '.venv' / 'bin' / 'trytond'), '-c', *configs,
            '-d', DATABASE],
        cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        if answering(PORTAL + 'login'):
            return
        if _server.poll() is not None:
            break
        time.sleep(0.5)
    tearDownModule()
    raise RuntimeError(f"the demo server did not answer at {PORTAL}")


def tearDownModule():
    global _server, _workdir
    if _server:
        _server.terminate()
        _server.wait(timeout=30)
        _server = None
    if _workdir:
        shutil.rmtree(_workdir, ignore_errors=True)
        _workdir = None


def demo_password():
    "The demo subscriber's password, from the demo's logins"
    logins = demo.read_logins(DATABASE, LOGINS)
    if DEMO_EMAIL not in logins:
        raise unittest.SkipTest(f"no {DEMO_EMAIL} in {LOGINS}")
    return logins[DEMO_EMAIL][1]


def activation():
    "A subscription's number and activation code, from the demo's logins"
    logins = demo.read_logins(DATABASE, LOGINS)
    for login, (role, password) in logins.items():
        if role == demo.ACTIVATION_ROLE:
            return login, password
    raise unittest.SkipTest(f"no activation code in {LOGINS}")


def photo():
    "A small PNG, as a phone's camera would send a JPEG"
    from PIL import Image
    data = io.BytesIO()
    Image.new('RGB', (64, 48), (20, 90, 160)).save(data, 'PNG')
    return {'name': 'dial.png', 'mimeType': 'image/png',
        'buffer': data.getvalue()}


class PortalBrowserTestCase(unittest.TestCase):
    "Sign up, read a bill, complain with a photo, send a reading"

    @classmethod
    def setUpClass(cls):
        SHOTS.mkdir(parents=True, exist_ok=True)
        cls.playwright = sync_playwright().start()
        # the browser keeps the real clock: a clock shifted by libfaketime
        # (make test-clock) is the server's
        env = {k: v for k, v in os.environ.items()
            if k not in {'LD_PRELOAD', 'FAKETIME'}}
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM, env=env)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()

    def setUp(self):
        self.context = self.browser.new_context(**PHONE)
        self.page = self.context.new_page()
        self.addCleanup(self.context.close)

    def shot(self, name):
        self.page.screenshot(path=str(SHOTS / f'{name}.png'), full_page=True)

    def sign_in(self, email=DEMO_EMAIL, password=None):
        page = self.page
        page.goto(PORTAL + 'login')
        page.get_by_label('البريد الإلكتروني').fill(email)
        page.get_by_label('كلمة المرور').fill(password or demo_password())
        page.get_by_role('button', name='دخول').click()
        expect(page.get_by_role('heading', name='اشتراكاتي')).to_be_visible()

    def open_subscription(self):
        self.page.locator('main h2 a').first.click()
        expect(self.page.get_by_role(
                'heading', name='فواتير للدفع')).to_be_visible()

    def test_sign_up_and_read_a_bill(self):
        "A new subscriber proves the subscription with the bill's code"
        page = self.page
        # what the printed bill shows: the subscription number and its
        # portal activation code (the demo's logins keep them)
        number, code = activation()

        page.goto(PORTAL + 'login')
        self.shot('01-login')
        page.get_by_role('link', name='إنشاء حساب').click()
        # the form with the activation code (the other one asks for a code
        # by e-mail)
        form = page.locator('form').filter(
            has=page.get_by_label('رمز تفعيل البوابة'))
        form.get_by_label('رقم الاشتراك').fill(number)
        # typed as a subscriber would: small letters, a space for the dash
        form.get_by_label('رمز تفعيل البوابة').fill(
            code.lower().replace('-', ' '))
        form.get_by_label('البريد الإلكتروني').fill(
            f'e2e-{time.time_ns()}@example.com')
        form.get_by_label('كلمة المرور').fill('e2e-Water-2026')
        self.shot('02-signup')
        form.get_by_role('button', name='إنشاء حساب').click()
        expect(page.get_by_role('heading', level=1)).to_have_text(
            f'الاشتراك {number}')
        self.assertEqual(page.locator('html').get_attribute('dir'), 'rtl')
        self.shot('03-subscription')

        with page.expect_download() as download:
            page.get_by_role('link', name='الفاتورة (PDF)').first.click()
        path = download.value.path()
        self.assertTrue(Path(path).read_bytes().startswith(b'%PDF'))
        self.assertTrue(download.value.suggested_filename.endswith('.pdf'))

        page.get_by_role('link', name='الكشف كاملاً').click()
        expect(page.get_by_role('heading', level=1)).to_contain_text(
            'كشف الحساب')
        self.shot('04-statement')

    def test_complaint_with_photo(self):
        "A complaint with a photo, then its page with the deadline"
        page = self.page
        self.sign_in()
        self.open_subscription()
        page.get_by_role('link', name='تقديم طلب أو شكوى').click()
        page.get_by_label('النوع').select_option(index=1)
        page.get_by_label('الوصف').fill(
            'تسريب مياه أمام العداد منذ الصباح (اختبار آلي)')
        page.get_by_label('صورة (اختياري)').set_input_files(photo())
        self.shot('05-request-form')
        page.get_by_role('button', name='إرسال').click()
        expect(page.get_by_role('heading', level=1)).to_contain_text('الطلب')
        expect(page.get_by_text('موعد الرد')).to_be_visible()
        self.shot('06-request')

    def test_self_reading(self):
        "A reading with a photo of the dial, a little above the last one"
        page = self.page
        self.sign_in()
        self.open_subscription()
        page.get_by_role('link', name='إرسال قراءة العداد').click()
        last = page.locator('#last-reading')
        value = 1
        if last.count():
            value = int(re.search(r'(\d[\d,]*)', last.inner_text())
                .group(1).replace(',', '')) + 7
        page.get_by_label('القراءة (م³)').fill(str(value))
        page.get_by_label('صورة واجهة العداد').set_input_files(photo())
        page.get_by_role('button', name='إرسال').click()
        # received (perhaps held for a check), or already sent today
        expect(page.locator('.ok, .errors')).to_be_visible()
        self.shot('07-reading')

    def test_other_subscription_not_found(self):
        "A guessed subscription id answers the friendly not-found page"
        page = self.page
        self.sign_in()
        response = page.goto(PORTAL + 's/999999999')
        self.assertEqual(response.status, 404)
        expect(page.get_by_text('لا تخصك')).to_be_visible()
        self.shot('08-not-found')
