//! The on-disk journal: `<root>/.state/journal.jsonl`, one JSON record per line, fsync'd per record.

use crate::machine::Record;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    /// Seconds since the Unix epoch.
    pub ts: f64,
    #[serde(flatten)]
    pub record: Record,
}

pub struct Journal {
    path: PathBuf,
    file: File,
}

/// Read every record of a journal file. A torn last line (a crash in the middle of a write) is
/// ignored; a bad line anywhere else is an error.
pub fn read(path: &Path) -> std::io::Result<Vec<Record>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let lines: Vec<String> = BufReader::new(file).lines().collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => out.push(e.record),
            Err(_) if i + 1 == lines.len() => break,
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{}: {e}", path.display(), i + 1),
                ));
            }
        }
    }
    Ok(out)
}

/// Journals longer than this are compacted at start.
pub const COMPACT_AT: usize = 10_000;

/// Keep the records from the last committed generation on (what recovery needs: the last committed
/// version, any later quarantine, an open generation); older history goes. Written to a temporary
/// file, fsync'd and renamed over the journal, so a crash leaves either the old or the new one.
fn compact(path: &Path, records: Vec<Record>) -> std::io::Result<Vec<Record>> {
    let last_committed = records.iter().rev().find_map(|r| match r {
        Record::Committed { generation, .. } => Some(*generation),
        _ => None,
    });
    let Some(keep_from) = last_committed.and_then(|g| {
        records
            .iter()
            .position(|r| matches!(r, Record::Observed { generation, .. } if *generation == g))
    }) else {
        return Ok(records);
    };
    let text = std::fs::read_to_string(path)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() != records.len() {
        return Ok(records);
    }
    let tmp = path.with_extension("jsonl.tmp");
    {
        let mut f = File::create(&tmp)?;
        for l in &lines[keep_from..] {
            f.write_all(l.as_bytes())?;
            f.write_all(b"\n")?;
        }
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(records[keep_from..].to_vec())
}

impl Journal {
    pub fn open(path: &Path) -> std::io::Result<(Journal, Vec<Record>)> {
        let records = read(path)?;
        // Drop a torn tail so the next append starts on a fresh line.
        if path.exists() {
            let text = std::fs::read_to_string(path)?;
            if !text.is_empty() && !text.ends_with('\n') {
                let keep = text.rfind('\n').map(|i| i + 1).unwrap_or(0);
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(keep as u64)?;
                f.sync_all()?;
            }
        }
        let records = if records.len() > COMPACT_AT {
            compact(path, records)?
        } else {
            records
        };
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok((
            Journal {
                path: path.to_path_buf(),
                file,
            },
            records,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and fsync it before returning.
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let mut line = serde_json::to_string(&Entry {
            ts,
            record: record.clone(),
        })
        .map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_long_journals_keeping_what_recovery_needs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        // Written directly: 10,000 fsync'd appends would take half a minute.
        let mut text = String::new();
        let mut put = |r: Record| {
            text.push_str(&serde_json::to_string(&Entry { ts: 1.0, record: r }).unwrap());
            text.push('\n');
        };
        let h = |g: u64| format!("{g:064}");
        let mut g = 0;
        while g < (COMPACT_AT as u64) / 2 + 10 {
            g += 1;
            put(Record::Observed {
                generation: g,
                hash: h(g),
            });
            put(Record::Superseded { generation: g });
        }
        for r in [
            Record::Observed {
                generation: g + 1,
                hash: h(g + 1),
            },
            Record::Validated { generation: g + 1 },
            Record::Published { generation: g + 1 },
            Record::Swapped { generation: g + 1 },
            Record::ReloadSent { generation: g + 1 },
            Record::Verified { generation: g + 1 },
            Record::Committed {
                generation: g + 1,
                hash: h(g + 1),
            },
            Record::Observed {
                generation: g + 2,
                hash: h(g + 2),
            },
            Record::Rejected {
                generation: g + 2,
                hash: h(g + 2),
                reason: "parse".into(),
            },
        ] {
            put(r);
        }
        std::fs::write(&p, text).unwrap();
        let before = read(&p).unwrap();
        let (_, after) = Journal::open(&p).unwrap();
        assert_eq!(after.len(), 9);
        assert_eq!(read(&p).unwrap(), after);
        let (m1, _) = crate::machine::recover(&before, None);
        let (m2, _) = crate::machine::recover(&after, None);
        assert_eq!(
            (m1.committed, m1.quarantine, m1.last_gen),
            (m2.committed, m2.quarantine, m2.last_gen)
        );
        crate::machine::check_journal(&after).unwrap();
    }

    #[test]
    fn roundtrip_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let (mut j, recs) = Journal::open(&p).unwrap();
        assert!(recs.is_empty());
        j.append(&Record::Observed {
            generation: 1,
            hash: "ab".into(),
        })
        .unwrap();
        j.append(&Record::Superseded { generation: 1 }).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"ts\":1,\"event\":\"obs").unwrap();
        drop(f);
        let (mut j, recs) = Journal::open(&p).unwrap();
        assert_eq!(recs.len(), 2);
        j.append(&Record::Observed {
            generation: 2,
            hash: "cd".into(),
        })
        .unwrap();
        assert_eq!(read(&p).unwrap().len(), 3);
    }
}
