#!/usr/bin/env python3
"""normalize.py - the stable part of a lesson's `explain` story, for the
golden files in this directory (tests/integration/lessons.sh).

A live lab capture differs from run to run in what no lesson is about: the
lab's addresses and ports, the times (microseconds on the wire), packet
indexes (other connections of the run), sequence numbers and byte counts of
streamed bodies, and the line wrapping that numbers of another width cause.
What stays is what the lesson teaches: the packets that change the state
(SYN, FIN, RST) with their direction and flags (a run of like ones, such as
a RST for each late segment, as one line), and every note's words.

Reads explain's text (--color=never) for one scenario on stdin; writes the
first connection's story: its header with addresses, times and numbers
replaced, one line per SYN/FIN/RST packet ("C --> S  F."), and each note
paragraph joined on one line with its numbers (and their time units: the
same gap is 900 µs in one run and 1.1 ms in the next) replaced by N.
"""
import re
import sys

NUM = re.compile(r'(?<![\w-])\d+(?:\.\d+)?(?: (?:µs|ms|s)\b)?(?![\w-])')
ADDR = re.compile(r'\b\d{1,3}(?:\.\d{1,3}){3}:\d+\b|\[[0-9a-f:]+\]:\d+')
PKT = re.compile(r'^\s+\d+\.\d+\s+(C (?:-->|<--) S)\s+(\S+)\s')


def main():
    lines = sys.stdin.read().split('\n')
    out, started, note, paren = [], False, [], False

    def flush():
        if note:
            out.append('| ' + NUM.sub('N', ' '.join(note)))
            note.clear()

    for line in lines:
        if line.startswith('connection '):
            if started:
                break  # the first connection only
            started = True
        if not started:
            continue
        stripped = line.strip()
        if paren or stripped.startswith('('):
            # an aside of explain's (a record rebuilt from the capture)
            paren = not stripped.endswith(')')
            continue
        if stripped.startswith('|'):
            note.append(stripped[1:].strip())
            continue
        flush()
        m = PKT.match(line)
        if m:
            pkt = '%s  %s' % (m.group(1), m.group(2))
            # a run of like packets (a RST per late segment) is one line:
            # how many depends on timing
            if re.search('[SFR]', m.group(2)) and (not out or out[-1] != pkt):
                out.append(pkt)
            continue
        if out and out[-1].startswith('finding:') and not stripped.startswith('closed '):
            # the finding's summary, wrapped where its numbers fall
            out[-1] += ' ' + NUM.sub('N', stripped)
            continue
        if not stripped or stripped.startswith('time '):
            continue
        out.append(NUM.sub('N', ADDR.sub('ADDR', stripped)))
    flush()
    sys.stdout.write('\n'.join(out) + '\n')


main()
