package web

// LocalPath is localPath, for the table test of what a return_to may be.
var LocalPath = localPath
