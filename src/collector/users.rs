//! User names by uid, through the system's name service switch (NSS): `/etc/passwd`, and equally LDAP,
//! SSSD, systemd's DynamicUser or any other database `nsswitch.conf` names, as `ss`, `ps` and `ls` show
//! them. Reading `/etc/passwd` alone would leave those users nameless.

use std::time::{Duration, Instant};

use crate::model::FastMap;

/// How long an unknown uid is not asked about again (a user may be created meanwhile).
const RETRY_UNKNOWN: Duration = Duration::from_secs(60);

/// Names by uid, asked of NSS once per uid (`getpwuid_r`), unknown ones again after a minute.
#[derive(Debug, Default)]
pub struct UserNames {
    known: FastMap<u32, (Option<String>, Instant)>,
}

impl UserNames {
    /// The name of `uid`, if the system knows one.
    pub fn name(&mut self, uid: u32) -> Option<String> {
        let now = Instant::now();
        match self.known.get(&uid) {
            Some((Some(name), _)) => return Some(name.clone()),
            Some((None, asked)) if now.duration_since(*asked) < RETRY_UNKNOWN => return None,
            _ => {}
        }
        let name = uzers::get_user_by_uid(uid).map(|u| u.name().to_string_lossy().into_owned());
        self.known.insert(uid, (name.clone(), now));
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named_and_an_unused_uid_is_not() {
        let mut names = UserNames::default();
        assert_eq!(names.name(0).as_deref(), Some("root"));
        assert_eq!(
            names.name(0).as_deref(),
            Some("root"),
            "and again, from the cache"
        );
        assert_eq!(names.name(3_999_999_999), None);
    }
}
