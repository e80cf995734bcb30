//! net-snmp habits (issue #14): `faultline get|walk` against a real snmpd, compared value by
//! value with net-snmp's own `snmpget -On` / `snmpwalk -On` against the same agent; v3 with
//! net-snmp's flags; usage errors that never echo a secret; names in `faultline traps`.
//!
//! Runs the binary at `FAULTLINE_BIN` (else the one cargo built for this test).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use faultline_testpeers::free_udp_port;
use faultline_testpeers::snmpd::{self, Snmpd};

fn bin() -> std::ffi::OsString {
    std::env::var_os("FAULTLINE_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_faultline").into())
}

fn faultline(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("FAULTLINE_LOG")
        .env_remove("FAULTLINE_COMMUNITY")
        .env_remove("FAULTLINE_AUTH_PASS")
        .env_remove("FAULTLINE_PRIV_PASS")
        .output()
        .expect("run faultline")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// net-snmp's own tool, MIB loading off (as this machine's snmp.conf has it), OIDs numeric.
fn netsnmp(tool: &str, args: &[&str]) -> String {
    let o = Command::new(tool)
        .args(["-m", "", "-On"])
        .args(args)
        .output()
        .expect("run net-snmp");
    assert!(o.status.success(), "{tool} {args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

/// One printed varbind reduced to what both tools must agree on: numeric OID (no leading dot)
/// → (type, value). Quotes around strings, enumeration labels (`up(1)` → `1`), the leading dot
/// of OID values, spacing of Hex-STRINGs and the clock form of Timeticks are presentation.
fn parse(output: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        let (oid, rest) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("line {line:?}"));
        let oid = oid.trim_start_matches('.').to_owned();
        let (kind, value) = match rest.split_once(": ") {
            Some((k, v)) if !k.contains(' ') => (k.to_owned(), v.trim().to_owned()),
            _ if rest == "\"\"" => ("STRING".to_owned(), String::new()),
            _ => ("exception".to_owned(), rest.to_owned()),
        };
        let value = match kind.as_str() {
            "STRING" => value.trim_matches('"').to_owned(),
            "INTEGER" => match value.split_once('(') {
                Some((_, n)) => n.trim_end_matches(')').to_owned(),
                None => value,
            },
            "OID" => value.trim_start_matches('.').to_owned(),
            "Hex-STRING" => value.split_whitespace().collect::<String>().to_uppercase(),
            "Timeticks" => value
                .trim_start_matches('(')
                .split(')')
                .next()
                .unwrap_or_default()
                .to_owned(),
            _ => value,
        };
        // A map would hide a walk that printed an object twice (a non-increasing agent).
        let again = out.insert(oid.clone(), (kind, value));
        assert!(again.is_none(), "{oid} printed twice:\n{output}");
    }
    out
}

/// Same OIDs, types and values; counters and Timeticks may only have grown (ours ran later).
fn assert_same(
    ours: &BTreeMap<String, (String, String)>,
    theirs: &BTreeMap<String, (String, String)>,
) {
    assert!(!theirs.is_empty(), "net-snmp printed nothing");
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "different OIDs"
    );
    for (oid, (kind, value)) in theirs {
        let (our_kind, our_value) = &ours[oid];
        assert_eq!(our_kind, kind, "{oid}: type");
        if matches!(kind.as_str(), "Counter32" | "Counter64" | "Timeticks")
            && oid != "1.3.6.1.2.1.1.8.0"
        {
            let (a, b): (u64, u64) = (
                our_value.parse().expect("number"),
                value.parse().expect("number"),
            );
            assert!(a >= b, "{oid}: ours {a} < net-snmp's {b}");
        } else {
            assert_eq!(our_value, value, "{oid}: value");
        }
    }
}

#[test]
fn get_matches_snmpget_value_by_value_with_names() {
    let Some(agent) = Snmpd::start() else {
        return;
    };
    let host = agent.addr.to_string();
    let oids = [
        "1.3.6.1.2.1.1.5.0",
        "1.3.6.1.2.1.1.3.0",
        "1.3.6.1.2.1.2.2.1.8.1",
        "1.3.6.1.2.1.1.2.0",
    ];
    let mut args = vec!["-v2c", "-c", "public", host.as_str()];
    args.extend(oids);
    let theirs = netsnmp("snmpget", &args);
    let o = faultline(&[
        "get",
        &host,
        "-v",
        "2c",
        "-c",
        "public",
        "-On",
        "sysName.0",
        "SNMPv2-MIB::sysUpTime.0",
        "IF-MIB::ifOperStatus.1",
        ".1.3.6.1.2.1.1.2.0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_same(&parse(&text(&o.stdout)), &parse(&theirs));

    // Without -On: the names faultline knows, values as net-snmp prints them with MIBs.
    let o = faultline(&[
        "get",
        &host,
        "sysName.0",
        "ifOperStatus.1",
        "sysUpTime.0",
        "sysObjectID.0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines: Vec<String> = text(&o.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines[0],
        format!("SNMPv2-MIB::sysName.0 = STRING: {}", agent.sys_name())
    );
    assert_eq!(lines[1], "IF-MIB::ifOperStatus.1 = INTEGER: up(1)");
    assert!(
        lines[2].starts_with("SNMPv2-MIB::sysUpTime.0 = Timeticks: ("),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "SNMPv2-MIB::sysObjectID.0 = OID: NET-SNMP-MIB::netSnmpAgentOIDs.10"
    );

    // Exceptions print exactly as net-snmp prints them.
    let theirs = netsnmp(
        "snmpget",
        &[
            "-v2c",
            "-c",
            "public",
            &host,
            "1.3.6.1.2.1.1.5.1",
            "1.3.6.1.2.1.1.99.0",
        ],
    );
    let o = faultline(&["get", &host, "-On", "sysName.1", "1.3.6.1.2.1.1.99.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), theirs);

    // JSON carries the numeric OID, the name, the type and the number.
    let o = faultline(&["get", &host, "ifOperStatus.1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let vb = &v["varbinds"][0];
    assert_eq!(vb["oid"], "1.3.6.1.2.1.2.2.1.8.1", "{v}");
    assert_eq!(vb["name"], "IF-MIB::ifOperStatus.1", "{v}");
    assert_eq!(
        (vb["type"].as_str(), vb["number"].as_i64()),
        (Some("INTEGER"), Some(1)),
        "{v}"
    );
}

/// The ifTable columns of RFC 2863, to check our names independently of our table.
const IF_COLUMNS: [&str; 22] = [
    "ifIndex",
    "ifDescr",
    "ifType",
    "ifMtu",
    "ifSpeed",
    "ifPhysAddress",
    "ifAdminStatus",
    "ifOperStatus",
    "ifLastChange",
    "ifInOctets",
    "ifInUcastPkts",
    "ifInNUcastPkts",
    "ifInDiscards",
    "ifInErrors",
    "ifInUnknownProtos",
    "ifOutOctets",
    "ifOutUcastPkts",
    "ifOutNUcastPkts",
    "ifOutDiscards",
    "ifOutErrors",
    "ifOutQLen",
    "ifSpecific",
];

#[test]
fn walk_matches_snmpwalk_value_by_value_with_names() {
    let Some(agent) = Snmpd::start() else {
        return;
    };
    let host = agent.addr.to_string();
    for (ours_root, theirs_root) in [
        ("system", "1.3.6.1.2.1.1"),
        ("IF-MIB::ifTable", "1.3.6.1.2.1.2.2"),
    ] {
        // Interfaces of this machine may come and go while other tests run: one retry.
        let mut attempt = 0;
        loop {
            let theirs = parse(&netsnmp(
                "snmpwalk",
                &["-v2c", "-c", "public", &host, theirs_root],
            ));
            let o = faultline(&["walk", "-On", &host, ours_root]);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
            let ours = parse(&text(&o.stdout));
            attempt += 1;
            if attempt < 2 && ours.keys().ne(theirs.keys()) {
                continue;
            }
            assert_same(&ours, &theirs);
            break;
        }
    }
    // Named: every ifTable line carries its RFC 2863 column name.
    let o = faultline(&["walk", &host, "ifTable"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("IF-MIB::ifOperStatus.1 = INTEGER: up(1)"),
        "{out}"
    );
    for line in out.lines() {
        let name = line.split(" = ").next().unwrap_or_default();
        let (column, _index) = name
            .strip_prefix("IF-MIB::")
            .and_then(|n| n.split_once('.'))
            .unwrap_or_else(|| panic!("unnamed: {line}"));
        assert!(IF_COLUMNS.contains(&column), "{line}");
    }
    // Walking an instance shows it, as snmpwalk does.
    let o = faultline(&["walk", &host, "sysName.0"]);
    assert_eq!(
        text(&o.stdout).trim(),
        format!("SNMPv2-MIB::sysName.0 = STRING: {}", agent.sys_name())
    );
}

#[test]
fn v3_auth_priv_with_net_snmp_flags() {
    let Some(agent) = Snmpd::start() else {
        return;
    };
    let host = agent.addr.to_string();
    let v3 = [
        "-v3",
        "-l",
        "authPriv",
        "-u",
        snmpd::V3_USER,
        "-a",
        "SHA",
        "-A",
        snmpd::V3_AUTH,
        "-x",
        "AES",
        "-X",
        snmpd::V3_PRIV,
    ];
    let mut args = v3.to_vec();
    args.extend([host.as_str(), "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.2.2.1.7.1"]);
    let theirs = netsnmp("snmpget", &args);
    let mut args = vec!["get", host.as_str(), "-On", "sysName.0", "ifAdminStatus.1"];
    args.extend(v3);
    let o = faultline(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_same(&parse(&text(&o.stdout)), &parse(&theirs));
    // All of MIB-2 under privacy: net-snmp refuses big GETBULK answers with genErr, the walk
    // asks for fewer rows and goes on to the end.
    let mut args = vec!["walk", host.as_str()];
    args.extend(v3);
    let o = faultline(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let theirs = netsnmp("snmpwalk", &["-v2c", "-c", "public", &host, "1.3.6.1.2.1"]);
    // Process and socket tables change between walks: compare sizes loosely; a walk cut off
    // (OIDs not increasing, the size bound) exits 1, which the status above rules out.
    let (n, m) = (out.lines().count(), theirs.lines().count());
    assert!(
        n * 10 >= m * 9 && n > 1000,
        "v3 walk printed {n} lines, net-snmp {m}"
    );
    assert!(out.contains("IF-MIB::ifOperStatus.1 = INTEGER: up(1)"));
    // A wrong passphrase is a failure (1), and neither passphrase is printed.
    let o = faultline(&[
        "get",
        &host,
        "sysName.0",
        "-v3",
        "-l",
        "authPriv",
        "-u",
        snmpd::V3_USER,
        "-a",
        "sha",
        "-A",
        "wrong-pass-9876",
        "-x",
        "aes128",
        "-X",
        snmpd::V3_PRIV,
        "-t",
        "0.5",
        "-r",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        !err.contains("wrong-pass-9876") && !err.contains(snmpd::V3_PRIV),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2_without_the_secret() {
    let host = format!("127.0.0.1:{}", free_udp_port());
    let secret = "s3cret-not-to-print";
    let cases: [(&[&str], &str); 5] = [
        (
            &["-v3", "-u", "u", "-l", "authPriv", "-A", secret],
            "-l authPriv needs an authentication protocol",
        ),
        (
            &[
                "-v3", "-u", "u", "-l", "authPriv", "-a", "SHA", "-A", secret,
            ],
            "-l authPriv needs a privacy protocol",
        ),
        (
            &[
                "-v3",
                "-u",
                "u",
                "-l",
                "noAuthNoPriv",
                "-a",
                "SHA-256",
                "-A",
                secret,
            ],
            "-l noAuthNoPriv takes no",
        ),
        (
            &["-v3", "-l", "authNoPriv", "-a", "md5", "-A", secret],
            "needs a user name",
        ),
        (&["-v", "2c", "-c", secret, "-O", "q"], "only -On"),
    ];
    for (cmd, what) in [("get", "sysName.0"), ("walk", "system")] {
        for (flags, want) in cases {
            let mut args = vec![cmd, host.as_str(), what];
            args.extend(flags);
            let o = faultline(&args);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(want), "{args:?}: {err}");
            assert!(
                !err.contains(secret) && !text(&o.stdout).contains(secret),
                "{err}"
            );
        }
    }
    let o = faultline(&["get", &host, "SNMPv2-MIB::ifOperStatus.1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("defined in IF-MIB"),
        "{}",
        text(&o.stderr)
    );
    let o = faultline(&[
        "poll", &host, "-v3", "-u", "u", "-l", "authPriv", "-A", secret,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains(secret));

    // The program's own version stays -V/--version; a subcommand's -v is the SNMP version.
    for flag in ["-V", "--version"] {
        let o = faultline(&[flag]);
        assert_eq!(o.status.code(), Some(0), "{flag}");
        assert!(
            text(&o.stdout).starts_with("faultline "),
            "{flag}: {}",
            text(&o.stdout)
        );
    }
    let help = text(&faultline(&["get", "--help"]).stdout);
    for want in [
        "FAULTLINE_AUTH_PASS",
        "FAULTLINE_PRIV_PASS",
        "-A, --auth-pass",
        "-l, --sec-level",
    ] {
        assert!(help.contains(want), "--help lacks {want}: {help}");
    }
}

/// Kills `faultline traps` even when an assertion fails.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn traps_print_names() {
    if !faultline_testpeers::have("snmptrap") {
        return;
    }
    let listen = format!("127.0.0.1:{}", free_udp_port());
    let mut child = Proc(
        Command::new(bin())
            .args(["traps", "--listen", &listen])
            .env_remove("FAULTLINE_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn faultline traps"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    // Until the receiver is bound, traps are lost: send again until one is printed.
    while Instant::now() < deadline && !seen.iter().any(|l: &String| l.contains("= down(2)")) {
        let _ = Command::new("snmptrap")
            .args([
                "-m",
                "",
                "-v2c",
                "-c",
                "public",
                &listen,
                "",
                "1.3.6.1.6.3.1.1.5.3",
            ])
            .args([
                "1.3.6.1.2.1.2.2.1.1.3",
                "i",
                "3",
                "1.3.6.1.2.1.2.2.1.8.3",
                "i",
                "2",
            ])
            .output();
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            seen.push(line);
        }
    }
    let out = seen.join("\n");
    assert!(out.contains(" trap IF-MIB::linkDown"), "{out}");
    assert!(
        out.contains("    IF-MIB::ifOperStatus.3 = down(2)"),
        "{out}"
    );
    assert!(out.contains("    IF-MIB::ifIndex.3 = 3"), "{out}");
}
