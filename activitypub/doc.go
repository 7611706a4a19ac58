// Package activitypub is torget's ActivityPub protocol layer: the vocabulary
// codec (decoding incoming documents safely, encoding what we publish), IRI and
// origin rules. It knows nothing about storage or HTTP routing; go-fed's
// streams vocabulary is used only inside this package tree.
package activitypub
