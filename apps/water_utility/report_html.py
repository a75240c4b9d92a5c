# This file is part of the water_utility module.  See README.rst.
"""HTML reports printed to PDF with the module's own Arabic font.

trytond converts HTML reports with WeasyPrint but lets it fetch only
http(s) URLs, and fontconfig does not pick an Arabic font by itself: the
module ships Amiri (SIL Open Font License, fonts/OFL.txt) and gives it to
WeasyPrint here, so a machine needs no font package for Arabic PDFs.
"""
import csv
import io
from pathlib import Path

from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

FONTS = Path(__file__).parent / 'fonts'
# Latin first so that digits and Latin letters use its glyphs; pango takes
# the Arabic ones from the next family.
FONT_FACES = ''.join(
    f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
    f'src: url("{(FONTS / f"amiri-{subset}-{weight}-normal.woff").as_uri()}")'
    ' format("woff"); }\n'
    for family, subset in [('WU Latin', 'latin'), ('WU Arabic', 'arabic')]
    for weight in [400, 700]) + (
    'html { font-family: "WU Latin", "WU Arabic", serif; }\n')


def _fetcher():
    "A URL fetcher that reads the module's fonts and nothing else"
    import weasyprint

    class FontFetcher(weasyprint.URLFetcher):
        def fetch(self, url, *args, **kwargs):
            if not url.startswith(FONTS.as_uri() + '/'):
                raise ValueError(f"refused to fetch {url}")
            return super().fetch(url, *args, **kwargs)
    return FontFetcher(allowed_protocols={'file'})


def html_to_pdf(html):
    "Return the PDF bytes of an HTML document with the Arabic font"
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration
    font_config = FontConfiguration()
    fetcher = _fetcher()
    stylesheet = weasyprint.CSS(
        string=FONT_FACES, font_config=font_config, url_fetcher=fetcher)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], font_config=font_config)


class HTMLReport(Report):
    "A report from an HTML template, to PDF with the module's fonts"

    @classmethod
    def convert(cls, report, data, **kwargs):
        if (report.template_extension == 'html'
                and report.extension == 'pdf'):
            return 'pdf', html_to_pdf(data)
        return super().convert(report, data, **kwargs)


class SubscriberReport(HTMLReport):
    """A document for subscribers and staff, printed in the language of the
    bills (the configuration's, else Arabic); the template gets it as lang"""

    @classmethod
    def report_language(cls, records, header):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        return Configuration(1).get_bill_language()

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Lang = pool.get('ir.lang')
        language = cls.report_language(records, header)
        Transaction().set_context(language=language)
        context = super().get_context(records, header, data)
        context['lang'] = Lang.get(language)
        return context


def csv_bytes(header, rows):
    "Return CSV as UTF-8 with BOM: spreadsheets then read Arabic right"
    output = io.StringIO(newline='')
    writer = csv.writer(output)
    writer.writerow(header)
    writer.writerows(rows)
    return output.getvalue().encode('utf-8-sig')
