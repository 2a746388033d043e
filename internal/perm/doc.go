// Package perm decides who may read and write what: it verifies users'
// JWTs into an [Auth], and evaluates permission rules written in CEL
// (https://cel.dev) per namespace and action.
//
// A rules file is JSON:
//
//	{
//	  "todos": {
//	    "allow": {
//	      "view":   "auth.id != null && data.owner == auth.id",
//	      "create": "auth.id != null && newData.owner == auth.id",
//	      "update": "data.owner == auth.id && newData.owner == auth.id",
//	      "delete": "data.owner == auth.id",
//	      "link":   "data.owner == auth.id",
//	      "unlink": "data.owner == auth.id"
//	    }
//	  }
//	}
//
// Each expression sees three variables: auth (the user: {"id": <uuid or
// null>, "email": ..., "claims": {...}}), data (the entity before the write,
// as {label: value}, with "id"), and newData (the entity after the write).
// view sees data only. An expression that does not evaluate to true — false,
// an error such as a missing key, or a non-boolean — denies. An action with
// no rule is denied, unless the rules were loaded with DefaultAllow (the
// server's --dev mode), which allows it.
//
// The package does no IO: the caller reads the file and passes its bytes.
package perm
