//! A real headless Chromium for the `browser_*` tests, driven through
//! ChromeDriver with fantoccini.
//!
//! The tests need Debian's `chromium` and `chromium-driver` packages
//! (`PATCHBAY_TEST_CHROMIUM` and `PATCHBAY_TEST_CHROMEDRIVER` point at other
//! binaries); declare them with `.needs(&CHROMIUM)`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use patchbay_testkit::Requirement;
use serde_json::json;

/// ChromeDriver on a free port, killed on drop.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Chromium binary: `PATCHBAY_TEST_CHROMIUM`, or Debian's.
fn chromium_path() -> String {
    std::env::var("PATCHBAY_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// The ChromeDriver binary: `PATCHBAY_TEST_CHROMEDRIVER`, or Debian's.
fn chromedriver_path() -> String {
    std::env::var("PATCHBAY_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// Chromium and ChromeDriver installed, for the `browser_*` tests.
pub static CHROMIUM: Requirement = Requirement::new("Chromium and ChromeDriver", || {
    let missing: Vec<_> = [chromium_path(), chromedriver_path()]
        .into_iter()
        .filter(|p| !std::path::Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the browser tests need Debian's chromium and chromium-driver packages \
         (missing {missing:?}); install them with `apt-get install chromium chromium-driver`"
    ))
});

/// ChromeDriver on a free port (the tests that call this need [`CHROMIUM`]).
pub async fn chromedriver() -> Driver {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = Command::new(chromedriver_path())
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not come up on {}", driver.url);
}

pub async fn browser(driver: &Driver, profile: &std::path::Path) -> fantoccini::Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium_path(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-popup-blocking",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::rustls()
        .expect("TLS roots")
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// The text of the first `css` element once it has some (10 s at most).
pub async fn wait_for_text(client: &fantoccini::Client, css: &str) -> String {
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
            && !text.is_empty()
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no text in `{css}`: {}",
        client.source().await.unwrap_or_default()
    );
}
