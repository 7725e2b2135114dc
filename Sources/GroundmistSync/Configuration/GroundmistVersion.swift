/// The release this build belongs to, printed by `groundmist-sync --version` and in the start-up
/// banner; the installer runs `--version` to check that a binary works on the machine before
/// installing it.
package enum GroundmistVersion {
    package static let current = "0.2.0"
}
