//! Nagios object configuration syntax: `define TYPE { key value ... }` blocks with `#` and `;`
//! comments, and the main configuration's `cfg_file=` / `cfg_dir=` lines. Every object keeps
//! the file and line it starts on.

use std::path::{Path, PathBuf};

/// Files read at most while following `cfg_file` / `cfg_dir` (a loop or a runaway directory).
const MAX_FILES: usize = 100_000;

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub line: u32,
}

/// One `define` block.
#[derive(Debug, Clone)]
pub struct Object {
    pub kind: Name,
    pub attrs: Attrs,
    pub at: Origin,
}

/// A block's `key value` lines, the last of a repeated key winning. A block has a handful, so a
/// list searched in order is cheaper than a map per block (100k hosts: 100k maps).
#[derive(Debug, Clone, Default)]
pub struct Attrs(Vec<(Name, String)>);

impl Attrs {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn insert(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => value.clone_into(v),
            None => self.0.push((name(key), value.to_owned())),
        }
    }
}

/// An object kind or attribute name: the ones the import reads are static (no allocation for
/// each of 100k blocks), any other is kept as written.
pub type Name = std::borrow::Cow<'static, str>;

/// The names the import reads, shared by every block that uses them.
const KNOWN_NAMES: [&str; 11] = [
    "host",
    "hostgroup",
    "name",
    "use",
    "register",
    "host_name",
    "address",
    "parents",
    "hostgroups",
    "hostgroup_name",
    "members",
];

/// `s` as a [`Name`]: a known name shared, another one copied.
fn name(s: &str) -> Name {
    match KNOWN_NAMES.iter().find(|k| **k == s) {
        Some(k) => Name::Borrowed(k),
        None => Name::Owned(s.to_owned()),
    }
}

/// Everything read: the files (by index) and the objects in reading order.
#[derive(Debug, Default)]
pub struct Config {
    pub files: Vec<PathBuf>,
    pub objects: Vec<Object>,
    /// Problems of syntax or reading, `file:line: message`.
    pub problems: Vec<String>,
}

impl Config {
    pub fn place(&self, at: &Origin) -> String {
        format!("{}:{}", self.files[at.file].display(), at.line)
    }

    /// Read `paths` (main configurations or object files), following `cfg_file` and `cfg_dir`
    /// relative to the file naming them.
    pub fn read(paths: &[PathBuf]) -> Result<Config, String> {
        let mut cfg = Config::default();
        let mut pending: Vec<PathBuf> = paths.iter().rev().cloned().collect();
        let mut seen: std::collections::HashSet<PathBuf> = Default::default();
        while let Some(p) = pending.pop() {
            let canon = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if !seen.insert(canon) {
                continue;
            }
            if cfg.files.len() >= MAX_FILES {
                return Err(format!("more than {MAX_FILES} configuration files"));
            }
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let file = cfg.files.len();
            cfg.files.push(p.clone());
            let base = p.parent().unwrap_or(Path::new(".")).to_path_buf();
            let mut includes: Vec<PathBuf> = cfg
                .parse(file, &text, &base)
                .into_iter()
                .flat_map(Include::files)
                .collect();
            includes.reverse();
            pending.extend(includes);
        }
        Ok(cfg)
    }

    /// One file's text (named `file` in problems), its includes not followed.
    pub fn from_text(file: &str, text: &str) -> Config {
        let mut cfg = Config {
            files: vec![PathBuf::from(file)],
            ..Config::default()
        };
        // Only collected, never read: parsing itself does no I/O.
        let _includes = cfg.parse(0, text, Path::new("."));
        cfg
    }

    /// Parse one file's text (no I/O); returns what it includes, in order.
    fn parse(&mut self, file: usize, text: &str, base: &Path) -> Vec<Include> {
        let mut includes = vec![];
        let mut current: Option<Object> = None;
        for (n, raw) in text.lines().enumerate() {
            let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let line = strip_comment(raw);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(obj) = current.as_mut() {
                let (body, closes) = match line.strip_suffix('}') {
                    Some(b) => (b.trim(), true),
                    None => (line, false),
                };
                if !body.is_empty() {
                    let (k, v) = body
                        .split_once(char::is_whitespace)
                        .map_or((body, ""), |(k, v)| (k, v.trim()));
                    obj.attrs.insert(k, v);
                }
                if closes {
                    self.objects.extend(current.take());
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("define") {
                let kind = rest.trim().trim_end_matches('{').trim();
                if kind.is_empty() || !rest.contains('{') {
                    self.problems.push(format!(
                        "{}:{line_no}: malformed `define` line",
                        self.files[file].display()
                    ));
                    continue;
                }
                current = Some(Object {
                    kind: name(kind),
                    attrs: Attrs::default(),
                    at: Origin {
                        file,
                        line: line_no,
                    },
                });
                continue;
            }
            match line.split_once('=') {
                Some(("cfg_file", f)) => includes.push(Include::File(base.join(f.trim()))),
                Some(("cfg_dir", d)) => includes.push(Include::Dir(base.join(d.trim()))),
                // Other main-configuration settings do not concern the topology.
                Some(_) => {}
                None => self.problems.push(format!(
                    "{}:{line_no}: neither a `define` block nor a `key=value` setting",
                    self.files[file].display()
                )),
            }
        }
        if let Some(obj) = current {
            self.problems.push(format!(
                "{}:{}: `define {}` is never closed",
                self.files[file].display(),
                obj.at.line,
                obj.kind
            ));
        }
        includes
    }
}

/// A `cfg_file=` or `cfg_dir=` line of a main configuration, relative paths resolved.
enum Include {
    File(PathBuf),
    Dir(PathBuf),
}

impl Include {
    /// The files it names: the file, or the `*.cfg` files under the directory (read now).
    fn files(self) -> Vec<PathBuf> {
        match self {
            Include::File(f) => vec![f],
            Include::Dir(d) => cfg_files(&d),
        }
    }
}

/// The text before the first unescaped `;` (Nagios' inline comment), or nothing for a `#`
/// comment line.
fn strip_comment(line: &str) -> std::borrow::Cow<'_, str> {
    if line.trim_start().starts_with('#') {
        return "".into();
    }
    let bytes = line.as_bytes();
    let mut escaped = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b';' if !escaped => return line[..i].to_owned().replace("\\;", ";").into(),
            b'\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    if line.contains("\\;") {
        line.replace("\\;", ";").into()
    } else {
        line.into()
    }
}

/// `*.cfg` files under `dir`, recursively, sorted (Nagios reads every `.cfg` file there).
fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "cfg") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_escaped_semicolons() {
        assert_eq!(strip_comment("  # all"), "");
        assert_eq!(
            strip_comment("address 10.0.0.1 ; the router"),
            "address 10.0.0.1 "
        );
        assert_eq!(strip_comment("notes a\\;b"), "notes a;b");
    }
}
