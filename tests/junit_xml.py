#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
The JUnit report of --check is XML a parser reads (checkreport.c writes it
by hand): a sample from tests/tools/junit_sample with every character XML
treats specially, a control character and invalid UTF-8 parses with
xml.etree, and the names read back are the texts written (the control
character left out, the invalid byte as U+FFFD).

Usage: junit_xml.py JUNIT_SAMPLE
"""
import subprocess
import sys
import xml.etree.ElementTree as ET

sample = sys.argv[1]
suite = 'lab <&"\'>'
lines = [
    'tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept',
    'tcp <&"\'> \x01 iif "x": drop by rule handle 11',
    'udp [2001:db8:1::2]:5353 -> [2001:db8:1::1]:53 iif wan0\t: reject',
]
args = [sample, suite] + lines
raw = subprocess.run(args, check=True, stdout=subprocess.PIPE).stdout
# and one argument that is not UTF-8
raw_bad = subprocess.run([sample, 'bad', 'tcp \xff'.encode('latin-1').decode('utf-8', 'surrogateescape')],
                         check=True, stdout=subprocess.PIPE).stdout

fail = False


def check(what, ok):
    global fail
    print(('ok: ' if ok else 'FAIL: ') + what)
    fail |= not ok


root = ET.fromstring(raw)
check('root is testsuites', root.tag == 'testsuites')
suites = root.findall('testsuite')
check('one testsuite', len(suites) == 1)
ts = suites[0]
check('suite name read back', ts.get('name') == suite)
check('tests and failures counted', ts.get('tests') == '3' and ts.get('failures') == '1')
cases = ts.findall('testcase')
check('three testcases', len(cases) == 3)
want = [f'line {i + 1}: {t}'.replace('\x01', '') for i, t in enumerate(lines)]
check('testcase names read back (control character left out)',
      [c.get('name') for c in cases] == want)
failures = [c.find('failure') for c in cases]
check('only the second failed', [f is not None for f in failures] == [False, True, False])
check('the failure names both sides',
      failures[1].get('message') == 'expected accept, got drop' and
      'expected: accept' in failures[1].text and 'got: drop by tcp <&"\'>' in failures[1].text)
bad = ET.fromstring(raw_bad).find('testsuite/testcase')
check('invalid UTF-8 becomes U+FFFD', bad.get('name') == 'line 1: tcp \ufffd')
sys.exit(1 if fail else 0)
