"""The fault soak (``b24app soak --minutes N``): the МеталПром story end to end on a loopback stack
while the sandbox injects faults, then the invariants (every lead assigned once, every stage task,
contract number, 1C invoice and payment once, no job left behind, dead letters explained).
See docs/proof.md."""
