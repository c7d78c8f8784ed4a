//! Where the encryption key comes from.
//!
//! 1. `PATCHBAY_ENCRYPTION_KEY`: base64 of 32 bytes. Required when several
//!    processes share one database (they must all use the same key).
//! 2. Otherwise `<data_dir>/encryption.key`: created on first start with mode
//!    0600 (readable by its owner only). An existing file with the wrong size or
//!    looser permissions is refused with a message saying how to fix it.
//!
//! `PATCHBAY_PREVIOUS_ENCRYPTION_KEYS` (comma-separated base64 keys) lists keys
//! of earlier rotations; they decrypt old values, new values use the active key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::crypto::Cipher;
use super::error::StorageError;

/// The variable holding the active key.
pub const KEY_ENV: &str = "PATCHBAY_ENCRYPTION_KEY";
/// The variable holding previous keys (comma-separated).
pub const PREVIOUS_KEYS_ENV: &str = "PATCHBAY_PREVIOUS_ENCRYPTION_KEYS";
/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "encryption.key";

/// The cipher configured by the environment, else by the key file in `data_dir`
/// (created when missing).
///
/// # Errors
///
/// [`StorageError::Crypto`] for a malformed key (variable or file), a key file with
/// looser permissions than 0600; [`StorageError::Io`] when the data directory or
/// key file cannot be read or created.
pub fn load_cipher(data_dir: &Path) -> Result<Cipher, StorageError> {
    let cipher = match std::env::var(KEY_ENV) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            Cipher::from_base64(&text)
                .map_err(|e| StorageError::Crypto(format!("{KEY_ENV}: {e}")))?
        }
        Err(_) => load_or_create_key_file(&data_dir.join(KEY_FILE))?,
    };
    with_previous_keys_from_env(cipher)
}

/// Adds the keys in `PATCHBAY_PREVIOUS_ENCRYPTION_KEYS`, if set.
///
/// # Errors
///
/// [`StorageError::Crypto`] naming the variable when one of them is malformed.
pub fn with_previous_keys_from_env(mut cipher: Cipher) -> Result<Cipher, StorageError> {
    if let Ok(list) = std::env::var(PREVIOUS_KEYS_ENV) {
        let list = Zeroizing::new(list);
        for (i, key) in list.split(',').filter(|k| !k.trim().is_empty()).enumerate() {
            cipher = cipher.with_previous_base64(key).map_err(|e| {
                StorageError::Crypto(format!("{PREVIOUS_KEYS_ENV} entry {}: {e}", i + 1))
            })?;
        }
    }
    Ok(cipher)
}

/// Reads the key file at `path`, creating it (mode 0600, with a new random key)
/// when it does not exist. Creation is atomic: concurrent first starts agree on
/// one key.
///
/// # Errors
///
/// As [`load_cipher`].
pub fn load_or_create_key_file(path: &Path) -> Result<Cipher, StorageError> {
    if !path.exists() {
        create_key_file(path)?;
    }
    read_key_file(path)
}

fn io_error(path: &Path, message: impl std::fmt::Display) -> StorageError {
    StorageError::Io {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn read_key_file(path: &Path) -> Result<Cipher, StorageError> {
    check_permissions(path)?;
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| io_error(path, e))?);
    Cipher::from_base64(&text).map_err(|e| {
        StorageError::Crypto(format!(
            "{}: {e}; restore the original key file, or move it away to start with a new key \
             (data encrypted with the old key cannot be read then)",
            path.display()
        ))
    })
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), StorageError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| io_error(path, e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(StorageError::Crypto(format!(
            "{} has permissions {mode:04o}; a key file must be readable by its owner only: \
             run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), StorageError> {
    Ok(())
}

/// Writes a new key to a private temporary file, then hard-links it into place,
/// which fails when another process created the file first (its key wins).
fn create_key_file(path: &Path) -> Result<(), StorageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp: PathBuf = dir.join(format!(".{KEY_FILE}.{}.tmp", uuid::Uuid::new_v4()));
    let key = Cipher::generate_key_base64();
    let written = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(key.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| match fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = fs::remove_file(&tmp);
    linked.map_err(|e| io_error(path, format!("cannot create the key file: {e}")))
}

/// Creates `dir` (and parents) with mode 0700 when missing.
///
/// # Errors
///
/// [`StorageError::Io`] when it cannot be created.
pub fn create_private_dir(dir: &Path) -> Result<(), StorageError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_error(dir, format!("cannot create the data directory: {e}")))
}

/// Creates `path` as an empty file readable only by its owner (mode 0600 on
/// Unix) unless it exists; an existing file is left as it is. For the SQLite
/// database, which holds encrypted secrets and hashes but also tenants' data:
/// SQLite gives its `-wal` and `-shm` files the database file's mode.
///
/// # Errors
///
/// [`StorageError::Io`] naming the path when it cannot be created.
pub fn create_private_file(path: &Path) -> Result<(), StorageError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_and_never_truncated() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patchbay.db");
        create_private_file(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::write(&path, b"data").unwrap();
        create_private_file(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"data");
    }

    #[test]
    fn creates_a_private_key_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(KEY_FILE);
        let first = load_or_create_key_file(&path).unwrap();
        let again = load_or_create_key_file(&path).unwrap();
        assert_eq!(first.active_key_id(), again.active_key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_loose_permissions_and_wrong_sizes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        load_or_create_key_file(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create_key_file(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");

        fs::write(&path, "c2hvcnQ=\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = load_or_create_key_file(&path).unwrap_err().to_string();
        assert!(err.contains("32 bytes"), "{err}");
    }
}
