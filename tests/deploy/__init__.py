"""The agent's install: the kustomize base in deploy/, the image and its publishing workflow."""
