#if canImport(Glibc)
import Glibc
// With MemberImportVisibility, Glibc struct members (stat) belong to whichever of Foundation's C
// modules included the header first, which varies between builds (release failed here): import both.
import CDispatch
import CoreFoundation
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Guards the CLI against `sudo groundmist-sync sessions …`: run as root on a data directory the
/// service user owns, it would leave root-owned 0600 state files the server can no longer read.
package enum DataDirectoryOwner {
    /// Why the command must not run, or nil when it may: refused when the effective user is root
    /// and the data directory exists and belongs to someone else.
    package static func refusalForRoot(dataDirectory: String, effectiveUID: UInt32 = geteuid()) -> String? {
        guard effectiveUID == 0 else { return nil }
        var info = stat()
        guard stat(dataDirectory, &info) == 0, info.st_uid != 0 else { return nil }
        let user = getpwuid(info.st_uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "#\(info.st_uid)"
        return """
            refusing to run as root: \(dataDirectory) belongs to \(user), and files this command writes as root \
            would lock the server out of its own sessions. Run it as the server's user: \
            sudo -u \(user) groundmist-sync …
            """
    }
}
