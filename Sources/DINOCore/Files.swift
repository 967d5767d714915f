import Foundation

/// A file or folder that could not be written, named in the message.
public struct FileError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The two file-system operations everything that saves something uses: charts, checkpoints,
/// run logs, PNG pictures. Nothing the project writes is ever half there.
public enum Files {
    /// Creates `directory` (and its parents) if needed and checks that it is a writable folder.
    /// - Throws: ``FileError`` naming the folder: it is a file, cannot be created, or is read-only.
    public static func ensureDirectory(_ directory: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), !isFolder.boolValue {
            throw FileError("\(directory): exists and is not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FileError("\(directory): cannot create the output folder (\(error.localizedDescription))")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw FileError("\(directory): the output folder is not writable")
        }
    }

    /// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half
    /// a file and an earlier version survives a failed write.
    public static func atomicWrite(_ text: String, to path: String) throws {
        try atomicWrite(Data(text.utf8), to: path)
    }

    /// Writes `data` to `path` through a temporary file and a rename (see above).
    public static func atomicWrite(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw FileError("\(path): cannot write (is the folder writable?)")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw FileError("\(path): cannot replace the file (\(reason))")
        }
    }
}
