#![allow(clippy::unwrap_used, clippy::expect_used)]

//! [`SsmSettings`] against SSM in the moto emulator: SecureStrings come back decrypted, every
//! page of `GetParametersByPath` is read, and parameters of other prefixes are not.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ssm::config::Credentials;
use aws_sdk_ssm::types::ParameterType;
use edp_cloud::{SettingsSource, SsmSettings};
use edp_store::Location;
use edp_testkit::MotoServer;
use edp_testkit::moto::{MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY};

async fn client(moto: &MotoServer) -> aws_sdk_ssm::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(Region::new(MOTO_REGION))
        .credentials_provider(Credentials::new(
            MOTO_ACCESS_KEY_ID,
            MOTO_SECRET_ACCESS_KEY,
            None,
            None,
            "moto",
        ))
        .load()
        .await;
    aws_sdk_ssm::Client::new(&config)
}

async fn put(client: &aws_sdk_ssm::Client, name: &str, value: &str, kind: ParameterType) {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn settings_and_decrypted_secrets_are_read_across_pages() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let ssm = client(&moto).await;
    // More parameters than one page holds (GetParametersByPath returns at most 10).
    for n in 0..15 {
        put(
            &ssm,
            &format!("/edp/test/extra/p{n:02}"),
            "x",
            ParameterType::String,
        )
        .await;
    }
    put(
        &ssm,
        "/edp/test/settings/grid_loc",
        "s3://aux/grid",
        ParameterType::String,
    )
    .await;
    put(
        &ssm,
        "/edp/test/settings/jobs",
        "[0,'native','AVG_MON','all']",
        ParameterType::String,
    )
    .await;
    put(
        &ssm,
        "/edp/test/secrets/source_credentials",
        r#"{"access_key_id": "AKIAMOTOTEST", "secret_access_key": "moto-secret-value"}"#,
        ParameterType::SecureString,
    )
    .await;
    put(
        &ssm,
        "/edp/other/settings/metadata_loc",
        "s3://elsewhere/m",
        ParameterType::String,
    )
    .await;

    let settings = SsmSettings::new(ssm)
        .load_settings("/edp/test/")
        .await
        .unwrap();
    assert_eq!(settings.grid_loc, Some(Location::s3("aux", "grid")));
    assert_eq!(
        settings.jobs.as_deref(),
        Some("[0,'native','AVG_MON','all']")
    );
    assert_eq!(
        settings.metadata_loc, None,
        "another prefix's parameter leaked in"
    );
    let credentials = settings.source_credentials.as_ref().unwrap();
    assert_eq!(credentials.secret_access_key.expose(), "moto-secret-value");
    assert_eq!(
        settings.unknown.len(),
        15,
        "every page was read: {:?}",
        settings.unknown
    );
    assert!(!format!("{settings:?}").contains("moto-secret-value"));
}
