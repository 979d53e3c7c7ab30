"""The PDF of a generated contract made by the real LibreOffice (installed by scripts/setup.sh with
poppler's pdftotext to read it back)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import docx

from b24app.contracts import document
from b24app.contracts.templates import default_template


def test_real_libreoffice_turns_a_contract_into_a_pdf(tmp_path: Path) -> None:
    assert shutil.which("soffice") and shutil.which("pdftotext"), "installed by scripts/setup.sh (make test)"
    doc = docx.Document(io.BytesIO(default_template("prepayment")))
    doc.add_paragraph("Проверочная строка № 4217 — Сто двадцать тысяч рублей 00 копеек")
    buf = io.BytesIO()
    doc.save(buf)
    pdf = document.to_pdf(buf.getvalue(), stem="contract")
    assert pdf is not None and pdf.startswith(b"%PDF-")
    (tmp_path / "c.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "c.pdf"), "-"], capture_output=True,
                          check=True).stdout.decode()
    assert "Проверочная строка № 4217" in text
    assert "Сто двадцать тысяч рублей 00 копеек" in text
