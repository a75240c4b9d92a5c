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

from trytond.report import Report

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


def csv_bytes(header, rows):
    "Return CSV as UTF-8 with BOM: spreadsheets then read Arabic right"
    output = io.StringIO(newline='')
    writer = csv.writer(output)
    writer.writerow(header)
    writer.writerows(rows)
    return output.getvalue().encode('utf-8-sig')
