# This file is part of the water_utility module.  See README.rst.
"""The subscriber portal in a browser, as a subscriber uses it on a phone

Run by `make e2e` (and by `make test`) against the demo server of `make run`
(http://127.0.0.1:8000/, database water): when nothing answers there, the
tests start `trytond -c config/trytond.conf -d water` themselves and stop it
after.  Headless Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM),
driven by Playwright; the screenshots of every step are kept in
screenshots/portal/ (not committed).

Not in the module's unittest discovery (this folder is not a package): these
tests need the demo database and a server.
"""
import io
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[4]
SERVER = os.environ.get('PORTAL_URL', 'http://127.0.0.1:8000')
DATABASE = os.environ.get('PORTAL_DATABASE', 'water')
PORTAL = f'{SERVER}/{DATABASE}/portal/'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
SHOTS = ROOT / 'screenshots' / 'portal'
DEMO_EMAIL = 'subscriber@example.com'
PHONE = {
    'viewport': {'width': 390, 'height': 844},
    'is_mobile': True,
    'has_touch': True,
    'locale': 'ar',
    }
_server = None


def answering(url=PORTAL + 'login'):
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def setUpModule():
    global _server
    if answering():
        return
    _server = subprocess.Popen(
        [str(ROOT / '.venv' / 'bin' / 'trytond'), '-c',
            str(ROOT / 'config' / 'trytond.conf'), '-d', DATABASE],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        if answering():
            return
        if _server.poll() is not None:
            break
        time.sleep(0.5)
    tearDownModule()
    raise RuntimeError(f"the demo server did not answer at {PORTAL}")


def tearDownModule():
    global _server
    if _server:
        _server.terminate()
        _server.wait(timeout=30)
        _server = None


def demo_password():
    "The demo subscriber's password, from sites/logins.txt"
    sys.path.insert(0, str(ROOT / 'tools'))
    from demo import read_logins
    logins = read_logins(DATABASE, ROOT / 'sites' / 'logins.txt')
    if DEMO_EMAIL not in logins:
        raise unittest.SkipTest(f"no {DEMO_EMAIL} in sites/logins.txt")
    return logins[DEMO_EMAIL][1]


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
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM)

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
        "A new subscriber proves the subscription with the latest bill"
        page = self.page
        # what the printed bill shows: the subscription number and its total
        self.sign_in()
        self.open_subscription()
        number = re.search(r'الاشتراك (\S+)',
            page.get_by_role('heading', level=1).inner_text()).group(1)
        total = page.locator('section', has_text='الفواتير').locator(
            'tbody tr').first.locator('td').nth(2).inner_text()
        total = re.sub(r'[^0-9.]', '', total)
        self.context.clear_cookies()

        page.goto(PORTAL + 'login')
        self.shot('01-login')
        page.get_by_role('link', name='إنشاء حساب').click()
        # the form with the bill's total (the other one asks for a code)
        form = page.locator('form').filter(
            has=page.get_by_label('إجمالي آخر فاتورة'))
        form.get_by_label('رقم الاشتراك').fill(number)
        form.get_by_label('إجمالي آخر فاتورة').fill(total)
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
