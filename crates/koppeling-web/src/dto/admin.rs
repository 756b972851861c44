//! The bodies of administraties and Beheerders.

use koppeling_domain::ids::{AdministratieCode, ResourceId};
use koppeling_domain::ports::{Admin, Administratie};
use koppeling_domain::problem::{Problem, Rule};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `PUT /administraties/{adm}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutAdministratie)]
pub struct PutAdministratieBody {
    /// The firm's name (not blank).
    #[schema(pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub name: String,
}

impl PutAdministratieBody {
    /// The administratie with code `code`.
    #[must_use]
    pub fn into_domain(self, code: AdministratieCode) -> Administratie {
        Administratie {
            code,
            name: self.name,
        }
    }
}

/// `PUT /administraties/{adm}/admins/{id}`: a Beheerder; the password is write-only.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutAdmin)]
pub struct PutAdminBody {
    /// Name (not blank).
    #[schema(pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    pub name: String,
    /// E-mail, the log-in (unique across the service): `local@domain.tld`, at most 250
    /// bytes once trimmed, without white space, `<`, `>` or `,`.
    #[schema(
        max_length = 250,
        pattern = r"^\s*[^@\s<>,\u0000]+@[^\s<>,.\u0000][^\s<>,\u0000]*\.[^\s<>,\u0000]*[^\s<>,.\u0000]\s*$"
    )]
    pub email: String,
    /// Sets the UI log-in when present.
    #[serde(default)]
    #[schema(value_type = Option<String>, write_only, min_length = 12, max_length = 1024, pattern = r"^[^\u0000]*$")]
    pub password: Option<SecretString>,
}

impl PutAdminBody {
    /// The Beheerder and the plain password to hash, if one was given.
    ///
    /// # Errors
    /// A problem on `password` when it is shorter than 12 or longer than 1024 characters.
    pub fn into_domain(
        self,
        id: ResourceId,
    ) -> Result<(Admin, Option<SecretString>), Vec<Problem>> {
        if let Some(password) = &self.password {
            let len = password.expose_secret().chars().count();
            if !(crate::MIN_PASSWORD_LEN..=1024).contains(&len) {
                return Err(vec![Problem::new(
                    "password",
                    Rule::InvalidPassword {
                        min: crate::MIN_PASSWORD_LEN,
                        max: 1024,
                    },
                )]);
            }
        }
        Ok((
            Admin {
                id,
                name: self.name,
                email: self.email.trim().to_owned(),
            },
            self.password,
        ))
    }
}
