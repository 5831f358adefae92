#!/usr/bin/env python3
"""Writes the malformed-CSV corpus and its MANIFEST.tsv (tests/unit/test_malformed_csv.c
checks every entry). Each case: a file name, its bytes, the reader options, the stage, the
expected status and a fragment of the expected message.

  options  default (detect the delimiter, header on) | noheader | delim=; (or , or tab)
  stage    csv: lathe_csv_read alone
           classification:COL / regression:COL: the file must read; lathe_prepare with a
           one-split experiment whose target is COL must then fail as given
  status   invalid | ok (a tolerated irregularity; the fragment is then "-")

    python3 tests/data/malformed/make_corpus.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = [
    # ragged rows
    ("ragged-short.csv", b"a,b,c\n1,2,3\n4,5\n", "default", "csv", "invalid",
     "line 3: 2 fields, but the header has 3 columns (column 3 ('c') is missing"),
    ("ragged-long.csv", b"a,b\n1,2\n3,4,5\n6,7\n", "default", "csv", "invalid",
     "line 3: 3 fields, but the header has 2 columns (field 3 has no column"),
    ("ragged-noheader.csv", b"1;2;3\n4;5\n", "noheader", "csv", "invalid",
     "line 2: 2 fields, but the first row has 3 columns (column 3 ('col3') is missing"),
    ("ragged-wrong-delimiter.csv", b"a;b\n1,2\n", "default", "csv", "invalid",
     "line 2: 1 field, but the header has 2 columns (column 2 ('b') is missing; the "
     "delimiter is ';')"),
    ("ragged-after-quoted-newline.csv", b'a,b\n"x\ny",1\n2\n', "default", "csv", "invalid",
     "line 4: 1 field"),
    ("ragged-lone-cr.csv", b"a,b\r1,2\r3\r", "default", "csv", "invalid",
     "line 3: 1 field, but the header has 2 columns"),
    ("ragged-mixed-line-endings.csv", b"a,b\r\n1,2\n3,4\r5\n", "default", "csv", "invalid",
     "line 4: 1 field"),
    # quotes
    ("unclosed-quote.csv", b'a,b\n1,"abc\n2,3\n', "default", "csv", "invalid",
     "line 2, column 2 ('b'): a quoted field opens here and is never closed (the file ends "
     "on line 4)"),
    ("unclosed-quote-header.csv", b'x,"a,b\n1,2\n', "default", "csv", "invalid",
     "line 1, column 2: a quoted field opens here and is never closed"),
    ("unclosed-quote-last-byte.csv", b'a\n1\n"', "default", "csv", "invalid",
     "line 3, column 1 ('a'): a quoted field opens here and is never closed"),
    ("unclosed-quote-escaped.csv", b'a,b\n1,"x""\n', "default", "csv", "invalid",
     "line 2, column 2 ('b'): a quoted field opens here and is never closed"),
    ("text-after-quote.csv", b'a,b,c\n1,"x"y,2\n', "default", "csv", "invalid",
     "line 2, column 2 ('b'): unexpected 'y' after a closing quote"),
    ("space-after-quote.csv", b'a,b\n"x" ,1\n', "default", "csv", "invalid",
     "line 2, column 1 ('a'): unexpected a space after a closing quote"),
    ("utf8-after-quote.csv", '"name"é,b\n1,2\n'.encode(), "default", "csv", "invalid",
     "line 1, column 1: unexpected byte 0xc3 after a closing quote"),
    ("quote-inside-unquoted.csv", b'a,b\n1,x"y\n', "default", "csv", "ok", "-"),
    # invalid UTF-8 of several kinds, NUL bytes, UTF-16
    ("utf8-lone-continuation.csv", b"a,b\n1,\x80x\n", "default", "csv", "invalid",
     "line 2, character 3: invalid UTF-8 (byte 0x80)"),
    ("utf8-overlong.csv", b"a\n\xc0\xaf\n", "default", "csv", "invalid",
     "line 2, character 1: invalid UTF-8 (byte 0xc0)"),
    ("utf8-truncated.csv", b"a,b\n1,\xe2\x82\n", "default", "csv", "invalid",
     "line 2, character 3: invalid UTF-8 (byte 0xe2)"),
    ("utf8-beyond-u10ffff.csv", b"a\n\xf4\x90\x80\x80\n", "default", "csv", "invalid",
     "line 2, character 1: invalid UTF-8 (byte 0xf4)"),
    ("utf8-latin1.csv", "ville,n\nZürich,1\nMünchen,2\ncafé,3\n".encode("latin-1"),
     "default", "csv", "invalid", "line 2, character 2: invalid UTF-8 (byte 0xfc)"),
    ("utf8-counts-characters.csv", "a,b\néèê,\xff".encode("utf-8").replace(b"\xc3\xbf", b"\xff"),
     "default", "csv", "invalid", "line 2, character 5: invalid UTF-8 (byte 0xff)"),
    ("utf8-in-header.csv", b"na\xefme\n1\n", "default", "csv", "invalid",
     "line 1, character 3: invalid UTF-8"),
    ("nul-byte.csv", b"a,b\n1,\x00\n", "default", "csv", "invalid",
     "line 2, character 3: a NUL byte (0x00)"),
    ("nul-in-category.csv", b"c\nab\x00\nab\x00\n", "default", "csv", "invalid",
     "line 2, character 3: a NUL byte"),
    ("utf16le.csv", "a,b\n1,2\n".encode("utf-16"), "default", "csv", "invalid",
     "line 1: the file is UTF-16"),
    ("utf16be.csv", b"\xfe\xff" + "a,b\n1,2\n".encode("utf-16-be"), "default", "csv",
     "invalid", "the file is UTF-16"),
    # empty and near-empty files
    ("empty.csv", b"", "default", "csv", "invalid", "the file is empty"),
    ("only-newlines.csv", b"\n\r\n\r\n\n", "default", "csv", "invalid", "the file is empty"),
    ("bom-only.csv", b"\xef\xbb\xbf", "default", "csv", "invalid", "the file is empty"),
    ("header-only.csv", b"a,b,c\n", "default", "csv", "invalid",
     "the file has a header but no data rows"),
    ("header-only-no-newline.csv", b"a,b,c", "default", "csv", "invalid",
     "the file has a header but no data rows"),
    ("header-then-blank-lines.csv", b"a,b\n\n\r\n\n", "default", "csv", "invalid",
     "no data rows"),
    ("only-delimiters.csv", b",,,\n,,,\n,,,\n", "default", "csv", "invalid",
     "lines 2 to 3: every data cell is empty or a missing marker"),
    ("only-missing-markers.csv", b"a;b\nNA;?\nnull;N/A\n", "default", "csv", "invalid",
     "lines 2 to 3: every data cell is empty"),
    # header names
    ("duplicate-header.csv", b"x,y,x\n1,2,3\n", "default", "csv", "invalid",
     "line 1: columns 1 and 3 are both named 'x'"),
    ("duplicate-header-quoted.csv", b'\n\n"a", a \n1,2\n', "default", "csv", "invalid",
     "line 3: columns 1 and 2 are both named 'a'"),
    ("duplicate-generated-name.csv", b"col2,,z\n1,2,3\n", "default", "csv", "invalid",
     "columns 1 and 2 are both named 'col2'"),
    # numbers
    ("number-too-large.csv", b"x,y\n1,2\n3,-4e38\n", "default", "csv", "invalid",
     "line 3, column 'y': -4e38 is too large for a 32-bit float"),
    # the target column, checked by lathe_prepare
    ("text-in-regression-target.csv", b"x,y\n1,2\n2,abc\n3,4\n", "default", "regression:y",
     "invalid", "column 'y' holds text (data row 2: 'abc'), but a regression target must be numeric"),
    ("fraction-in-class-target.csv", b"x,y\n1,0\n2,0.5\n3,1\n", "default",
     "classification:y", "invalid", "column 'y' has the value 0.5 (data row 2)"),
    ("missing-class-target.csv", b"x,y\n1,a\n2,\n3,b\n4,a\n", "default", "classification:y",
     "invalid", "data row 2: the target 'y' is missing"),
    ("one-class-target.csv", b"x,y\n1,a\n2,a\n3,a\n", "default", "classification:y",
     "invalid", "column 'y' has only one class"),
    ("no-target-column.csv", b"x,z\n1,a\n2,b\n", "default", "classification:y", "invalid",
     "data.target: the data has no column named 'y'"),
]


def main():
    for name in os.listdir(HERE):
        if name.endswith(".csv"):
            os.remove(os.path.join(HERE, name))
    lines = ["# The malformed-CSV corpus: written by make_corpus.py, checked by "
             "tests/unit/test_malformed_csv.c.",
             "# file\toptions\tstage\tstatus\tmessage fragment"]
    for name, data, options, stage, status, fragment in CASES:
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        lines.append("\t".join([name, options, stage, status, fragment]))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%d cases" % len(CASES))


if __name__ == "__main__":
    main()
