//! Writing a file so that readers see either the old content or the whole new one, never a half.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::model::failure::{Failure, FailureKind};

/// A write that failed, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// Why it failed.
    #[source]
    pub source: io::Error,
}

impl WriteError {
    /// The failure as the window shows it: `Export failed: cannot write PATH: why`, with its kind.
    #[must_use]
    pub fn failure(&self) -> Failure {
        Failure::new(
            FailureKind::of_io(&self.source),
            format!("Export failed: {self}"),
        )
    }
}

/// Writes `path` through `fill`: into a temporary file in the same directory, flushed to disk, then renamed
/// over `path`. On any failure the temporary file is removed and `path` is untouched.
///
/// A target that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written directly:
/// renaming over it would replace the device or pipe, and atomicity means nothing there.
///
/// # Errors
/// Any I/O error, with the path.
pub fn write_atomically<F>(path: &Path, fill: F) -> Result<(), WriteError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let err = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    if let Ok(meta) = fs::metadata(path) {
        if meta.is_dir() {
            return Err(err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            )));
        }
        if !meta.is_file() {
            let mut out = BufWriter::new(OpenOptions::new().write(true).open(path).map_err(err)?);
            fill(&mut out).map_err(err)?;
            return out.flush().map_err(err);
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| err(io::Error::new(io::ErrorKind::InvalidInput, "no file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let mut out = BufWriter::new(file);
        fill(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(err(e));
    }
    // Make the rename itself durable; failing to sync a directory is not worth failing the save for.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let temp = tempfile::tempdir().unwrap();
        let d = temp.path();
        let p = d.join("out.json");
        fs::write(&p, "old").unwrap();
        write_atomically(&p, |w| w.write_all(b"new content")).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new content");
        assert_eq!(fs::read_dir(d).unwrap().count(), 1);
    }

    #[test]
    fn failure_keeps_old_file_and_removes_temp() {
        let temp = tempfile::tempdir().unwrap();
        let d = temp.path();
        let p = d.join("out.json");
        fs::write(&p, "old").unwrap();
        let e = write_atomically(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk on fire"))
        })
        .unwrap_err();
        assert!(
            e.to_string().contains("out.json") && e.to_string().contains("disk on fire"),
            "{e}"
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(fs::read_dir(d).unwrap().count(), 1);
    }

    #[test]
    fn missing_directory_names_the_path() {
        let e = write_atomically(Path::new("/nonexistent-dir/x.json"), |_| Ok(())).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot write /nonexistent-dir/x.json:"),
            "{e}"
        );
    }

    /// A target that is not a regular file (a device, a pipe) is written in place. A FIFO in a temporary
    /// directory stands in for a device, so a regression cannot replace the machine's `/dev/null`.
    #[test]
    fn targets_that_are_not_regular_files_are_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let temp = tempfile::tempdir().unwrap();
        let fifo = temp.path().join("out.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader_path = fifo.clone();
        let reader = std::thread::Builder::new()
            .name("fifo-reader".to_owned())
            .spawn(move || fs::read(reader_path).unwrap())
            .unwrap();
        write_atomically(&fifo, |w| w.write_all(b"in place")).unwrap();
        // Checked before joining: a pipe replaced by a file would leave the reader waiting forever.
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(reader.join().unwrap(), b"in place");
        assert_eq!(
            fs::read_dir(temp.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
