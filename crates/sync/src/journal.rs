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
