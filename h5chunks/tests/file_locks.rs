//! A granule written while another process holds copies of its descriptor can be reopened
//! and indexed.
//!
//! HDF5 1.10 locks every file it opens with `flock` and unlocks it only by closing the
//! descriptor; a process started while the file is open (fork + exec) inherits the descriptor
//! and keeps the lock for as long as it lives. With locking on, the reopen below fails with
//! "NetCDF: HDF error" (seen in CI when a test started moto while another test thread wrote a
//! granule). The test binaries get `HDF5_USE_FILE_LOCKING=FALSE` from `.cargo/config.toml`,
//! the `edp` binaries from `edp_h5chunks::disable_file_locking`; this test fails if either
//! half of that is lost for test binaries.

use std::process::{Child, Command, Stdio};

/// Kills the child on drop, so a failing assertion leaves no process behind.
struct Sleeper(Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_file_reopens_while_a_child_started_during_its_write_lives() {
    assert_eq!(
        std::env::var(edp_h5chunks::FILE_LOCKING_VARIABLE).as_deref(),
        Ok("FALSE"),
        "the test environment must switch HDF5 file locking off (.cargo/config.toml)"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("granule.nc");
    let mut file = netcdf::create(&path).unwrap();
    file.add_dimension("x", 4).unwrap();
    let mut var = file.add_variable::<f32>("v", &["x"]).unwrap();
    var.put_values(&[1.0f32, 2.0, 3.0, 4.0], ..).unwrap();
    // Started while the file is open for writing: the child inherits its descriptor.
    let sleeper = Sleeper(
        Command::new("sleep")
            .arg("60")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    drop(file);

    let index = edp_h5chunks::chunk_index(&path).unwrap();
    let names: Vec<&str> = index.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["v"]);
    let reopened = netcdf::open(&path).unwrap();
    let values: Vec<f32> = reopened.variable("v").unwrap().get_values(..).unwrap();
    assert_eq!(values, [1.0, 2.0, 3.0, 4.0]);
    drop(sleeper);
}
