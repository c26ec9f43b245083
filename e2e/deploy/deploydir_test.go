package deploy

import "path/filepath"

// deployDir is deploy/ at the root of the repository, which holds the
// deployment files these tests check.
var deployDir = filepath.Join("..", "..", "deploy")
