#!/usr/bin/python3
"""A malformed-packet battery against synack over its TUN device (issue 8).

Runs inside the test's network namespace, on the kernel's side of synack0. Packets are
built with scapy and written to the device through a packet socket, so the kernel's IP
layer never sees, fixes or fragments them (a raw IP socket would fill in the IP checksum
and the total length). Replies are read from the same device.

The attacker's address, 198.18.0.66, is on synack0's subnet but is not the kernel's: synack's
answers to it cross the device and are captured here, and the kernel, which owns no socket
for it and does not forward, answers nothing. That keeps the kernel from resetting the
connections this script opens by hand (the same end an nftables rule dropping the kernel's
RSTs would serve).

  malformed_battery.py attack --out RESULTS.json [--iface synack0] [--port 8080]
      sends every case, records what went out and what came back.
  malformed_battery.py verdict --results RESULTS.json --trace TRACE.jsonl
      after `synack serve --json TRACE.jsonl` has stopped: one line per case,
      "CASE <name> reply=<what the wire answered> synack=<what synack's trace says>".

Every wait is bounded; the whole attack takes about 30 s.
"""

import argparse
import ctypes
import json
import random
import socket
import struct
import sys
import threading
import time

from scapy.all import IP, TCP, Raw
from scapy.layers.inet import IPOption_NOP, IPOption_Router_Alert
from scapy.utils import checksum

TARGET = "198.18.0.2"  # synack
HOST = "198.18.0.1"  # the kernel's side of synack0
ATTACKER = "198.18.0.66"  # on the subnet, owned by nobody
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
REPLY_WAIT = 0.5  # seconds to wait for synack's answer to one case


# --- the device -----------------------------------------------------------------------------


def attach_filter(sock):
    """Classic BPF: keep only frames synack sends (not the kernel's, which the packet socket
    also sees) and not the bulk transfer to the kernel's own address, so that this script
    keeps up with a download running beside it."""
    host = struct.unpack("!I", socket.inet_aton(HOST))[0]
    program = [
        (0x30, 0, 0, 0xFFFFF004),  # ldb pkttype (SKF_AD_OFF + SKF_AD_PKTTYPE)
        (0x15, 3, 0, PACKET_OUTGOING),  # outgoing (the kernel's): drop
        (0x20, 0, 0, 16),  # ld IP destination
        (0x15, 1, 0, host),  # to the kernel's address: drop
        (0x06, 0, 0, 0x40000),  # accept
        (0x06, 0, 0, 0),  # drop
    ]
    code = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buf = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", len(program), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    return buf  # keep the program alive as long as the socket


class Device:
    """Writes IP packets onto synack0 and collects what synack sends back."""

    def __init__(self, iface):
        self.tx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.tx.bind((iface, ETH_P_IP))
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self._filter = attach_filter(self.rx)
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.rx.bind((iface, ETH_P_ALL))
        self.rx.settimeout(0.1)
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.received = []  # (time, IP packet)
        self.running = True
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
        while self.running:
            try:
                data, addr = self.rx.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING or len(data) < 20 or data[0] >> 4 != 4:
                continue
            with self.cond:
                self.received.append((time.monotonic(), data))
                self.cond.notify_all()

    def send(self, packet):
        data = bytes(packet)
        self.tx.send(data)
        return data

    def mark(self):
        with self.lock:
            return len(self.received)

    def replies(self, since, match, wait=REPLY_WAIT, first_only=False):
        """The packets from index `since` on for which match(IP) holds, waiting up to `wait`."""
        deadline = time.monotonic() + wait
        with self.cond:
            while True:
                found = [IP(d) for _, d in self.received[since:]]
                found = [p for p in found if match(p)]
                if first_only and found:
                    return found[:1]
                left = deadline - time.monotonic()
                if left <= 0:
                    return found
                self.cond.wait(left)

    def take(self, since, match, wait):
        """(next index, the packets from `since` on that match), waiting up to `wait` for
        the first."""
        deadline = time.monotonic() + wait
        with self.cond:
            while len(self.received) == since and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            found = [IP(d) for _, d in self.received[since:]]
            return len(self.received), [p for p in found if match(p)]

    def close(self):
        self.running = False
        self.thread.join(2)


def to_tuple(addr, port):
    """A matcher for synack's packets to addr:port (TCP) or ICMP about it."""

    def match(p):
        if p.dst != addr:
            return False
        if p.haslayer(TCP):
            return p[TCP].dport == port
        return p.proto == 1

    return match


def describe(replies):
    """'none', or the replies in order: 'SYN,ACK', 'RST', 'RST,ACK', 'ACK', 'ICMP 3/2'."""
    if not replies:
        return "none"
    out = []
    for p in replies:
        if p.haslayer(TCP):
            flags = p[TCP].flags
            names = [n for bit, n in ((0x02, "SYN"), (0x04, "RST"), (0x01, "FIN"), (0x10, "ACK"))
                     if flags & bit]
            out.append(",".join(names) or "NOFLAGS")
        elif p.proto == 1:
            out.append("ICMP %d/%d" % (p.payload.type, p.payload.code))
        else:
            out.append("IP proto %d" % p.proto)
    return "+".join(out)


# --- connections made by hand ----------------------------------------------------------------


class Peer:
    """A TCP peer played by this script from ATTACKER:sport (RFC 9293 vocabulary)."""

    def __init__(self, dev, port, sport, window=65535):
        self.dev, self.port, self.sport = dev, port, sport
        self.iss = random.randrange(1 << 32)
        self.snd_nxt = self.iss
        self.rcv_nxt = None
        self.window = window
        self.cleanup = []

    def segment(self, flags, seq=None, ack=None, payload=b"", window=None, **kw):
        ip_kw = {k[3:]: kw.pop(k) for k in list(kw) if k.startswith("ip_")}
        seg = IP(src=ATTACKER, dst=TARGET, **ip_kw) / TCP(
            sport=self.sport, dport=self.port, flags=flags,
            seq=self.snd_nxt if seq is None else seq,
            ack=(self.rcv_nxt or 0) if ack is None else ack,
            window=self.window if window is None else window, **kw)
        return seg / Raw(payload) if payload else seg

    def connect(self):
        """The three-way handshake; True once ESTABLISHED."""
        since = self.dev.mark()
        self.cleanup.append(self.dev.send(self.segment("S", ack=0, options=[("MSS", 1460)])))
        got = self.dev.replies(since, self._synack, wait=2.0, first_only=True)
        if not got:
            return False
        self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
        self.rcv_nxt = (got[0][TCP].seq + 1) & 0xFFFFFFFF
        self.cleanup.append(self.dev.send(self.segment("A")))
        return True

    def _synack(self, p):
        return (to_tuple(ATTACKER, self.sport)(p) and p.haslayer(TCP) and
                p[TCP].flags & 0x12 == 0x12 and p[TCP].ack == (self.iss + 1) & 0xFFFFFFFF)

    def reset(self):
        """Ends the connection with an RST exactly at RCV.NXT: synack drops it at once."""
        self.cleanup.append(self.dev.send(self.segment("R", ack=0)))


# --- the cases -------------------------------------------------------------------------------


def syn(sport, port, src=ATTACKER, **ip_kw):
    return IP(src=src, dst=TARGET, **ip_kw) / TCP(sport=sport, dport=port, flags="S",
                                                  seq=random.randrange(1 << 32),
                                                  options=[("MSS", 1460)])


def tcp_bytes(sport, port, flags="S", dataofs=None, options=b""):
    """A TCP header by hand (scapy would fix what these cases break), checksum correct."""
    hdr_len = 20 + len(options)
    off = (hdr_len // 4) if dataofs is None else dataofs
    header = struct.pack("!HHIIBBHHH", sport, port, random.randrange(1 << 32), 0, off << 4,
                         int(TCP(flags=flags).flags), 65535, 0, 0) + options
    pseudo = (socket.inet_aton(ATTACKER) + socket.inet_aton(TARGET) +
              struct.pack("!BBH", 0, 6, len(header)))
    csum = checksum(pseudo + header)
    return header[:16] + struct.pack("!H", csum) + header[18:]


def raw_ip(payload, **kw):
    return IP(src=ATTACKER, dst=TARGET, proto=6, **kw) / Raw(payload)


def with_ip_header(packet, mutate):
    """The packet's bytes with its IP header changed by mutate(bytearray) and the header
    checksum recomputed, so that only the intended fault remains."""
    data = bytearray(bytes(packet))
    mutate(data)
    ihl = min((data[0] & 0x0F) * 4, len(data))
    data[10:12] = b"\0\0"
    data[10:12] = struct.pack("!H", checksum(bytes(data[:ihl])))
    return bytes(data)


def listener_cases(port):
    """(name, packets(sport), reply is a connection to clean up) against the listener."""

    def set_ihl(value):
        return lambda d: d.__setitem__(0, 0x40 | value)

    def fragments(sport, pieces):
        # Fragments of a SYN: (offset in 8-byte units, bytes of the TCP segment, more).
        tcp = bytes(syn(sport, port)[TCP])
        ident = random.randrange(1, 65535)
        out = []
        for offset, start, end, more in pieces:
            out.append(IP(src=ATTACKER, dst=TARGET, proto=6, id=ident, frag=offset,
                          flags="MF" if more else 0) / Raw(tcp[start:end]))
        return out

    bad_ip_options = IP(src=ATTACKER, dst=TARGET, options=[IPOption_NOP()])
    return [
        ("ip_bad_checksum", lambda s: [syn(s, port, chksum=0x1234)]),
        ("ip_truncated_header", lambda s: [bytes(syn(s, port))[:12]]),
        ("ip_ihl_below_5", lambda s: [with_ip_header(syn(s, port), set_ihl(4))]),
        ("ip_ihl_past_end", lambda s: [with_ip_header(syn(s, port), set_ihl(15))[:40]]),
        ("ip_total_length_past_end", lambda s: [bytes(syn(s, port))[:30]]),
        ("tcp_bad_checksum", lambda s: [IP(src=ATTACKER, dst=TARGET) / TCP(
            sport=s, dport=port, flags="S", chksum=0xBEEF)]),
        ("tcp_truncated_header", lambda s: [raw_ip(tcp_bytes(s, port)[:10])]),
        ("tcp_data_offset_past_end", lambda s: [raw_ip(tcp_bytes(s, port, dataofs=15))]),
        ("tcp_data_offset_below_5", lambda s: [raw_ip(tcp_bytes(s, port, dataofs=4))]),
        ("tcp_option_length_0", lambda s: [raw_ip(tcp_bytes(s, port, options=b"\x02\x00\x05\xb4"))]),
        ("tcp_option_length_1", lambda s: [raw_ip(tcp_bytes(s, port, options=b"\x02\x01\x05\xb4"))]),
        ("tcp_option_past_header",
         lambda s: [raw_ip(tcp_bytes(s, port, options=b"\x02\x08\x05\xb4"))]),
        ("tcp_option_length_missing",
         lambda s: [raw_ip(tcp_bytes(s, port, options=b"\x01\x01\x01\x02"))]),
        ("ip_options_valid", lambda s: [IP(
            src=ATTACKER, dst=TARGET, options=[IPOption_Router_Alert(), IPOption_NOP()]) /
            TCP(sport=s, dport=port, flags="S", seq=random.randrange(1 << 32))]),
        # Record Route (7) with a length (39) past the 4 bytes of options.
        ("ip_options_malformed", lambda s: [with_ip_header(
            bytes(bad_ip_options / TCP(sport=s, dport=port, flags="S")),
            lambda d: d.__setitem__(slice(20, 24), b"\x07\x27\x04\x00"))]),
        ("ip_options_length_0", lambda s: [with_ip_header(
            bytes(bad_ip_options / TCP(sport=s, dport=port, flags="S")),
            lambda d: d.__setitem__(slice(20, 24), b"\x07\x00\x00\x00"))]),
        # Tiny fragments (RFC 1858 §3.2): the first carries only the ports and the sequence
        # number, the second (at offset 8) would bring the flags.
        ("fragments_tiny", lambda s: fragments(s, [(0, 0, 8, True), (1, 8, 24, False)])),
        # Overlapping fragments: the second rewrites bytes 8..15 of the first.
        ("fragments_overlapping", lambda s: fragments(s, [(0, 0, 16, True), (1, 8, 24, False)])),
        # A well-formed fragmented SYN, flags in the first fragment: reassembled, answered.
        ("fragments_syn", lambda s: fragments(s, [(0, 0, 16, True), (2, 16, 24, False)])),
        ("ttl_0", lambda s: [syn(s, port, ttl=0)]),
        ("land", lambda s: [IP(src=TARGET, dst=TARGET) / TCP(sport=port, dport=port, flags="S")]),
        ("source_limited_broadcast", lambda s: [syn(s, port, src="255.255.255.255")]),
        ("source_subnet_broadcast", lambda s: [syn(s, port, src="198.18.0.255")]),
        ("source_multicast", lambda s: [syn(s, port, src="224.0.0.1")]),
        ("source_unspecified", lambda s: [syn(s, port, src="0.0.0.0")]),
        ("listen_syn_fin", lambda s: [IP(src=ATTACKER, dst=TARGET) / TCP(
            sport=s, dport=port, flags="SF")]),
        ("listen_syn_rst", lambda s: [IP(src=ATTACKER, dst=TARGET) / TCP(
            sport=s, dport=port, flags="SR")]),
        ("listen_no_flags", lambda s: [IP(src=ATTACKER, dst=TARGET) / TCP(
            sport=s, dport=port, flags="")]),
        ("listen_all_flags", lambda s: [IP(src=ATTACKER, dst=TARGET) / TCP(
            sport=s, dport=port, flags="FSRPAUEC", urgptr=1)]),
        ("listen_xmas_fin_psh_urg", lambda s: [IP(src=ATTACKER, dst=TARGET) / TCP(
            sport=s, dport=port, flags="FPU", urgptr=1)]),
        ("listen_syn_urgent", lambda s: [IP(src=ATTACKER, dst=TARGET) / TCP(
            sport=s, dport=port, flags="SU", urgptr=5, seq=random.randrange(1 << 32))]),
    ]


def established_cases():
    """(name, packets(peer)) against a connection this script opened."""
    data = b"0123456789"
    return [
        ("estab_tcp_bad_checksum", lambda p: [p.segment("PA", payload=data, chksum=0xBEEF)]),
        ("estab_ip_bad_checksum", lambda p: [p.segment("PA", payload=data, ip_chksum=0x1234)]),
        ("estab_option_length_0", lambda p: [raw_ip_from(p, "PA", b"\x08\x00\x00\x00", data)]),
        ("estab_syn_fin", lambda p: [p.segment("SF")]),
        ("estab_syn_rst_in_window", lambda p: [p.segment("SR", seq=p.snd_nxt + 100)]),
        ("estab_syn_rst_exact", lambda p: [p.segment("SR")]),  # resets: RST at RCV.NXT
        ("estab_rst_in_window", lambda p: [p.segment("R", seq=p.snd_nxt + 100, ack=0)]),
        ("estab_no_flags", lambda p: [p.segment("", payload=data)]),
        ("estab_all_flags", lambda p: [p.segment("FSRPAUEC", urgptr=1)]),
        ("estab_xmas_fin_psh_urg", lambda p: [p.segment("FPU", urgptr=1, payload=data)]),
        ("estab_ack_too_new", lambda p: [p.segment("A", ack=p.rcv_nxt + 100000)]),
        ("estab_urgent", lambda p: [p.segment("PAU", urgptr=5, payload=data)]),
        ("estab_ttl_0", lambda p: [p.segment("PA", payload=data, ip_ttl=0)]),
    ]


# Cases whose RST sits exactly at RCV.NXT: synack resets the connection, no cleanup needed.
ENDS_CONNECTION = ("estab_syn_rst_exact", "estab_all_flags")


def raw_ip_from(peer, flags, options, payload):
    """A segment of `peer` whose options scapy would otherwise tidy: raw header bytes."""
    hdr = struct.pack("!HHIIBBHHH", peer.sport, peer.port, peer.snd_nxt, peer.rcv_nxt,
                      ((20 + len(options)) // 4) << 4, int(TCP(flags=flags).flags),
                      peer.window, 0, 0) + options
    pseudo = (socket.inet_aton(ATTACKER) + socket.inet_aton(TARGET) +
              struct.pack("!BBH", 0, 6, len(hdr) + len(payload)))
    csum = checksum(pseudo + hdr + payload)
    return raw_ip(hdr[:16] + struct.pack("!H", csum) + hdr[18:] + payload)


# --- the zero window held forever -----------------------------------------------------------


class ZeroWindow(threading.Thread):
    """A peer that asks for a response and then never opens its window: synack must probe
    (RFC 9293 §3.8.6.1, RFC 1122 4.2.2.17) with a growing interval, and keep the connection."""

    def __init__(self, dev, port, sport):
        super().__init__(daemon=True)
        self.peer = Peer(dev, port, sport, window=1000)
        self.probes = []  # times of synack's probes (segments while the window is shut)
        self.error = ""
        self.stop = threading.Event()

    def run(self):
        dev, p = self.peer.dev, self.peer
        if not p.connect():
            self.error = "no handshake"
            return
        # The request, with the window shut from now on; the reply's first 1000 bytes
        # fill the window we offered.
        since = dev.mark()
        request = b"GET /bytes/1M HTTP/1.1\r\nHost: x\r\n\r\n"
        p.cleanup.append(dev.send(p.segment("PA", payload=request, window=0)))
        p.snd_nxt = (p.snd_nxt + len(request)) & 0xFFFFFFFF
        start = time.monotonic()
        while not self.stop.is_set() and time.monotonic() - start < 60:
            since, got = dev.take(since, to_tuple(ATTACKER, p.sport), wait=0.2)
            for seg in got:
                tcp = seg[TCP]
                if tcp.flags & 0x04:
                    self.error = "synack reset the connection"
                    return
                # The ACK of the request carries no data at RCV.NXT; anything else (a byte
                # past the shut window, or an old sequence number as Linux probes) is a probe.
                if len(bytes(tcp.payload)) == 0 and tcp.seq == p.rcv_nxt:
                    continue
                self.probes.append(time.monotonic())
                # Every probe is answered: the window is still shut.
                p.cleanup.append(dev.send(p.segment("A", window=0)))
        if not self.stop.is_set():
            self.error = "not stopped in time"

    def finish(self):
        self.stop.set()
        self.join(5)
        self.peer.reset()


# --- attack and verdict ---------------------------------------------------------------------


def attack(args):
    random.seed(args.seed)
    dev = Device(args.iface)
    results = {"cases": [], "zero_window": {}}
    sport = 20000
    zero = ZeroWindow(dev, args.port, 19999)
    zero.start()
    for name, build in listener_cases(args.port):
        sport += 1
        since = dev.mark()
        sent = [dev.send(pk) for pk in build(sport)]
        src = socket.inet_ntoa(sent[0][12:16]) if len(sent[0]) >= 16 else ATTACKER
        reply_port = args.port if name == "land" else sport
        got = dev.replies(since, to_tuple(src, reply_port))
        cleanup = []
        if got and got[0].haslayer(TCP) and got[0][TCP].flags & 0x12 == 0x12:
            # A half-open connection was made: its exact RST removes it.
            s = got[0][TCP]
            cleanup.append(bytes(IP(src=src, dst=TARGET) / TCP(
                sport=reply_port, dport=args.port, flags="R", seq=s.ack)))
            dev.send(cleanup[-1])
        results["cases"].append({"name": name, "src": src, "sport": reply_port,
                                 "sent": [b.hex() for b in sent],
                                 "cleanup": [b.hex() for b in cleanup],
                                 "reply": describe(got)})
    for name, build in established_cases():
        sport += 1
        peer = Peer(dev, args.port, sport)
        if not peer.connect():
            results["cases"].append({"name": name, "src": ATTACKER, "sport": sport, "sent": [],
                                     "cleanup": [], "reply": "no handshake"})
            continue
        time.sleep(0.05)  # synack's accept and the server's first read
        since = dev.mark()
        sent = [dev.send(pk) for pk in build(peer)]
        got = dev.replies(since, to_tuple(ATTACKER, sport))
        for reply in got:  # data synack took moves our SND.NXT, and the closing RST with it
            if reply.haslayer(TCP) and reply[TCP].flags & 0x10:
                if 0 < (reply[TCP].ack - peer.snd_nxt) & 0xFFFFFFFF < 65536:
                    peer.snd_nxt = reply[TCP].ack
        if name not in ENDS_CONNECTION:
            peer.reset()
        results["cases"].append({"name": name, "src": ATTACKER, "sport": sport,
                                 "sent": [b.hex() for b in sent],
                                 "cleanup": [b.hex() for b in peer.cleanup],
                                 "reply": describe(got)})
    # The zero window has been shut for the whole battery; give the probes a few more
    # seconds (they back off), then end it.
    deadline = time.monotonic() + args.zero_window_seconds
    while time.monotonic() < deadline and zero.is_alive():
        time.sleep(0.1)
    zero.finish()
    times = zero.probes
    results["zero_window"] = {
        "sport": 19999, "error": zero.error, "probes": len(times),
        "intervals_ms": [round((b - a) * 1000) for a, b in zip(times, times[1:])],
    }
    dev.close()
    with open(args.out, "w") as f:
        json.dump(results, f)
    print("attack: %d cases, %d zero-window probes" % (len(results["cases"]), len(times)))
    return 0


def verdict(args):
    with open(args.results) as f:
        results = json.load(f)
    events = []
    with open(args.trace) as f:
        for line in f:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # the last line of a trace cut short
    by_hex = {}
    for i, e in enumerate(events):
        if "hex" in e and e.get("event") in ("drop", "packet") and e.get("dir") != "out":
            by_hex.setdefault(e["hex"], []).append(i)

    def peer_of(e):
        # The remote endpoint of a packet or state event, as "addr:port".
        if e.get("event") == "packet":
            return e.get("dst") if e.get("dir") == "out" else e.get("src")
        return e.get("remote")

    def what_followed(index, remote):
        """synack's decisions on packet events[index]: its drop, the state changes and the
        segments it sent to `remote`, up to the next packet from there. A fragment's own
        event says what reassembly did with it ("in(fragment held)"); the datagram it
        completes follows as "in(reassembled from N fragments)", and another fragment ends
        the account of this one."""
        said = []
        for e in events[index:]:
            kind = e.get("event")
            cause = e.get("cause", "")
            if kind == "drop" and e.get("hex") == events[index].get("hex"):
                said.append("drop(%s: %s)" % (e["layer"], e["reason"]))
            elif kind == "packet" and e.get("dir") == "in" and e is events[index]:
                if cause:
                    said.append("in(%s)" % cause)
            elif kind == "packet" and e.get("dir") == "in":
                if cause.startswith("reassembled"):
                    said.append("in(%s)" % cause)
                elif cause.startswith("fragment") or peer_of(e) == remote:
                    break
            elif kind == "packet" and e.get("dir") == "out" and peer_of(e) == remote:
                said.append("out(%s)" % e.get("cause", ""))
            elif kind == "state" and peer_of(e) == remote:
                said.append("state(%s)" % e.get("to", ""))
            if kind == "drop" and e.get("hex") == events[index].get("hex"):
                break
        return said

    status = 0
    for case in results["cases"]:
        remote = "%s:%d" % (case["src"], case["sport"])
        parts = []
        for h in case["sent"]:
            seen = [i for i in by_hex.get(h, [])]
            if not seen:
                parts.append("unseen")
                continue
            said = what_followed(seen[0], remote)
            parts.append(" ".join(said) if said else "silent")
        print("CASE %s reply=%s synack=%s" % (case["name"], case["reply"], "; ".join(parts)))
    z = results["zero_window"]
    print("ZERO_WINDOW probes=%d error=%s intervals_ms=%s" %
          (z["probes"], z["error"] or "none", ",".join(str(i) for i in z["intervals_ms"])))
    return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("attack")
    a.add_argument("--iface", default="synack0")
    a.add_argument("--port", type=int, default=8080)
    a.add_argument("--out", required=True)
    a.add_argument("--seed", type=int, default=8)
    a.add_argument("--zero-window-seconds", type=float, default=6.0)
    v = sub.add_parser("verdict")
    v.add_argument("--results", required=True)
    v.add_argument("--trace", required=True)
    args = parser.parse_args()
    return attack(args) if args.command == "attack" else verdict(args)


if __name__ == "__main__":
    sys.exit(main())
