#!/usr/bin/perl
# Verifies every DKIM signature of each message file with Mail::DKIM (an implementation
# independent of lbmail's), fetching public keys from a DNS server on 127.0.0.1:PORT.
#
# Usage: dkim_verify.pl --dns-port PORT FILE...
# Prints one line per signature: "FILE pass d=D s=S a=A" or "FILE fail <reason>" (also for a
# file with no signature). Exit status 0 only when every signature of every file passes.
# A signature whose algorithm this Mail::DKIM does not implement (ed25519-sha256 before
# Mail::DKIM 1.20230630) prints "FILE unsupported d=D s=S a=A" and neither passes nor fails,
# as RFC 6376 6.1.1 tells a verifier to ignore it; such a file still needs one passing signature.
use strict;
use warnings;
use Getopt::Long;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

my $port;
GetOptions('dns-port=i' => \$port) or die "usage: $0 --dns-port PORT FILE...\n";
die "usage: $0 --dns-port PORT FILE...\n" unless $port && @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $port,
                                                  recurse => 0, tcp_timeout => 5, udp_timeout => 5));

sub verify_file {
  my ($path) = @_;
  open(my $fh, '<:raw', $path) or do { print "$path fail cannot open: $!\n"; return 0; };
  my $dkim = Mail::DKIM::Verifier->new();
  while (my $line = <$fh>) {
    $line =~ s/\015?\012\z/\015\012/;  # Mail::DKIM wants CRLF line ends
    $dkim->PRINT($line);
  }
  close($fh);
  $dkim->CLOSE();
  my @sigs = $dkim->signatures;
  if (!@sigs) { print "$path fail no DKIM-Signature header\n"; return 0; }
  my ($passed, $failed) = (0, 0);
  foreach my $sig (@sigs) {
    my $tags = sprintf('d=%s s=%s a=%s', $sig->domain // '', $sig->selector // '', $sig->algorithm // '');
    my $detail = $sig->result_detail // '';
    if ($sig->result eq 'pass') {
      print "$path pass $tags\n";
      $passed++;
    } elsif ($detail =~ /unsupported algorithm/i) {
      print "$path unsupported $tags\n";
    } else {
      print "$path fail $tags: $detail\n";
      $failed++;
    }
  }
  return $failed == 0 && $passed > 0;
}

my $all = 1;
foreach my $path (@ARGV) { $all = 0 unless verify_file($path); }
exit($all ? 0 : 1);
