# ruff: noqa: E501  (the corpus is text: one sentence or needle a line, however long)
"""The synthetic Q&A corpus and the labelled queries of ``bench.search``.

Five languages (sv, da, de, ja, en), ten themes a public service point gets asked
about (moving and address change, parental benefit, building permits, passports,
identity cards and e-ID / the My Number card, tax, driving licences,
unemployment benefit, pensions, childcare and school), each with question titles,
body sentences and staff answers written per language with slots ({city},
{month}, ...) filled from per-language lists. `generate` draws ``n`` posts from
them with a fixed seed: titles of 5-15 words, bodies of 20-200 words (Japanese:
about two characters a word, no spaces), answers on the answered ones, replies,
votes, statuses.

Planted among them are the *needles*: 36 specific questions per language (the
same 36 situations in every language: moving to Canada, twins and parental
benefit, solar panels and building permits, an emergency passport, ...), each one
post whose title and detail sentence are written for it, on the theme its noise
neighbours share. Each needle has one to three labelled queries: a paraphrase
through other inflections of its words (``flyttade utomlands kanada`` for *Hur
anmäler jag flytt när jag flyttar utomlands till Kanada?*), some with a typo
(marked ``~``), and in Japanese written without spaces as Japanese is. A query's
only relevant post is its needle (known-item search): recall@5 is the share of
queries whose needle is among the first five hits.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

LANGS = ("sv", "da", "de", "ja", "en")
SERVICES = {
    "move": "registration",
    "parental": "benefits",
    "permit": "permits",
    "passport": "registration",
    "eid": "registration",
    "tax": "general",
    "licence": "registration",
    "jobless": "benefits",
    "pension": "benefits",
    "school": "general",
}
TYPES = (("question", 0.7), ("problem", 0.12), ("idea", 0.08), ("praise", 0.05))
STATUSES = (("open", 0.4), ("answered", 0.3), ("official", 0.2), ("closed", 0.07))

# -- Swedish ------------------------------------------------------------------------

SV_SLOTS = {
    "city": "Malmö Göteborg Uppsala Lund Umeå Örebro Kiruna Stockholm Västerås Luleå",
    "country": "Norge Danmark Tyskland Finland Spanien Japan Polen USA",
    "month": "januari februari mars april maj juni juli augusti september oktober november december",
    "n": "2 3 4 5 6 7 8 10 12",
    "child": "vår son|vår dotter|vårt första barn|vårt andra barn|vår lilla flicka",
    "building": "friggebod garage uterum carport staket balkong altan",
    "age": "63 64 65 66 67",
}
SV_FILLER = """
Hej!
Tack på förhand för hjälpen.
Jag har letat på webbplatsen men hittar inget svar.
Är det någon som har varit med om samma sak?
Jag ringde kundtjänst men fick vänta i över en timme.
Det vore bra med ett tydligt svar från er.
Tack, det löste sig till slut.
Jag förstår inte riktigt vad som gäller i mitt fall.
Det är första gången jag gör det här.
Hoppas att någon kan hjälpa mig.
Jag har skickat ett mejl men inte fått något svar ännu.
Informationen på sidan är svår att hitta.
"""
SV_THEMES = """
## move
T Hur anmäler jag flytt till en ny adress i {city}?
T Jag har flyttat till {city}, måste jag ändra min adress själv?
T Hur lång tid tar det att registrera en adressändring?
T Vi flyttar i {month}, när ska vi anmäla flytten?
T Fel adress i folkbokföringen efter flytten till {city}
S Vi flyttade till {city} i {month} och posten kommer fortfarande till den gamla adressen.
S Jag anmälde flytten för {n} veckor sedan men har inte fått något besked.
S Min sambo och jag ska flytta ihop och undrar hur folkbokföringen fungerar.
S Måste alla i familjen anmäla flytt var för sig eller räcker det med en anmälan?
S Jag har en tillfällig adress hos en vän i {city} under några månader.
S Eftersändning av post är beställd men adressändringen syns inte i systemet.
A Du anmäler flytt digitalt med e-legitimation, senast en vecka efter att du har flyttat.
A Adressändringen registreras oftast inom några dagar och du får ett brev till den nya adressen.
## parental
T Hur ansöker jag om föräldrapenning för {child}?
T Kan jag ta ut föräldrapenning på deltid?
T Hur många dagar med föräldrapenning har vi kvar?
T Föräldrapenningen har inte betalats ut i {month}
S Vi fick {child} i {month} och vill dela dagarna lika mellan oss.
S Min arbetsgivare vill veta hur länge jag är föräldraledig.
S Jag har ansökt om {n} dagar men bara fått ersättning för några av dem.
S Hur räknas den sjukpenninggrundande inkomsten om jag har studerat?
S Kan farföräldrar få överlåtna dagar?
A Du ansöker om föräldrapenning i självbetjäningen, senast 90 dagar efter den första dagen.
A Utbetalningen sker den 25:e varje månad om ansökan kommer in i tid.
## permit
T Behöver jag bygglov för att bygga ett {building}?
T Hur lång är handläggningstiden för bygglov i {city}?
T Vilka ritningar ska jag skicka med bygglovsansökan?
T Grannen har byggt ett {building} utan bygglov
S Vi planerar att bygga ett {building} på tomten till sommaren.
S Kommunen begärde in fler ritningar och nu har det gått {n} veckor.
S Gäller samma regler för attefallshus som för en vanlig tillbyggnad?
S Fasaden ska byta färg och jag undrar om det kräver lov.
S Vad kostar ett bygglov ungefär för ett {building}?
A Ansökan om bygglov lämnas digitalt med situationsplan, fasadritningar och planritning.
A Handläggningstiden är högst tio veckor från att ansökan är komplett.
## passport
T Hur bokar jag tid för att förnya passet?
T Mitt pass går ut i {month}, hinner jag få ett nytt före resan?
T Kan jag ansöka om pass för {child} utan båda föräldrarna?
T Jag har tappat mitt pass, vad ska jag göra?
S Vi ska resa till {country} och passet är snart ogiltigt.
S Det finns inga lediga tider på passexpeditionen i {city} de närmaste veckorna.
S Behöver jag ta med det gamla passet när jag hämtar det nya?
S Fotot tas på plats när man ansöker om pass.
A Du bokar tid för passansökan på webben och tar med giltig legitimation.
A Passet är oftast klart att hämta inom två veckor.
## eid
T Hur ansöker jag om ett nytt ID-kort?
T Jag kommer inte in med min e-legitimation
T Kan jag hämta ut ID-kortet på ett annat kontor i {city}?
T ID-kortet är borta, hur spärrar jag det?
S Mobilt BankID slutade fungera efter att jag bytte telefon.
S Jag har inget svenskt ID och behöver legitimera mig.
S Kortet skickades till fel kontor och nu vet jag inte var det är.
S Hur lång tid tar det att få ett nytt identitetskort?
A ID-kortet beställs på ett servicekontor och är klart att hämta efter cirka två veckor.
A Kontakta din bank om e-legitimationen inte fungerar, de ansvarar för BankID.
## tax
T När får jag tillbaka skatten i år?
T Hur gör jag avdrag för resor till jobbet?
T Jag har fått kvarskatt, hur betalar jag den?
T Deklarationen är fel, kan jag ändra den i efterhand?
S Jag har arbetat i {country} en del av året och vet inte var jag ska skatta.
S Skatteåterbäringen har inte kommit trots att jag deklarerade i {month}.
S Jag sålde min bostadsrätt och undrar hur vinsten beskattas.
S Arbetsgivaren har dragit för lite skatt på lönen.
A Deklarationen lämnas senast den 2 maj, digitalt eller på papper.
A Du kan begära omprövning av din deklaration i upp till fem år.
## licence
T Hur förnyar jag mitt körkort?
T Körkortet är borttappat, hur beställer jag ett nytt?
T Hur lång tid tar det att få körkortstillstånd?
T Gäller mitt körkort från {country} i Sverige?
S Jag har klarat uppkörningen men kortet har inte kommit.
S Läkarintyget för körkortstillståndet skickades in för {n} veckor sedan.
S Fotot på körkortet måste förnyas vart tionde år.
S Behöver jag göra ett nytt syntest?
A Ett nytt körkort beställs digitalt och skickas till din folkbokföringsadress.
A Körkortstillstånd behandlas normalt inom fyra veckor.
## jobless
T Hur ansöker jag om ersättning från a-kassan?
T Jag blev uppsagd i {month}, vad ska jag göra först?
T Hur mycket får jag i arbetslöshetsersättning?
T Måste jag söka jobb varje månad för att få ersättning?
S Jag har arbetat deltid i {n} år och undrar om jag uppfyller arbetsvillkoret.
S Min anställning tog slut och jag har skrivit in mig på Arbetsförmedlingen.
S Aktivitetsrapporten skickades in sent den här månaden.
S Kan jag studera och samtidigt få ersättning?
A Skriv in dig hos Arbetsförmedlingen samma dag som du blir arbetslös och ansök sedan hos a-kassan.
A Aktivitetsrapporten lämnas senast den 14:e varje månad.
## pension
T När kan jag börja ta ut min pension?
T Hur räknas min pension ut om jag har arbetat i {country}?
T Kan jag arbeta och ta ut pension samtidigt?
T Pensionen blev lägre än beräknat
S Jag fyller {age} i {month} och vill veta vad som händer med min inkomst.
S Jag har arbetat utomlands i många år och undrar om de åren räknas.
S Min man gick bort och jag undrar över efterlevandepension.
S Prognosen i det orange kuvertet stämmer inte med mina uppgifter.
A Du kan ta ut allmän pension från 63 års ålder och ansöker digitalt eller med blankett.
A Pensionen betalas ut den 18:e eller 19:e varje månad.
## school
T Hur ansöker jag om förskoleplats i {city}?
T Hur lång är kön till förskolan?
T Kan vi byta skola mitt i terminen?
T Vad kostar förskolan per månad?
S Vi har flyttat och behöver en ny förskola för {child}.
S Barnet börjar skolan i augusti och vi har inte fått något besked om placering.
S Min dotter vill byta till en skola närmare hemmet.
S Vi har fått ett erbjudande om plats men den ligger långt bort.
A Ansök om förskoleplats senast fyra månader innan du behöver platsen.
A Avgiften beräknas på hushållets inkomst och har ett maxtak.
"""
SV_NEEDLES = """
move | Hur anmäler jag flytt när jag flyttar utomlands till Kanada? | Jag ska arbeta i Kanada i två år och undrar om jag blir avregistrerad. | flyttade utomlands kanada | ~anmäla flyttning utomlands kanda
move | Vilken adress gäller när jag hyr en studentlägenhet i andra hand? | Jag hyr en studentlägenhet i andra hand under studietiden. | studentlägenheten andra hand adress
move | Skyddad folkbokföring efter hot, hur ansöker jag? | Jag har blivit hotad och vill att min adress ska vara hemlig. | skyddade folkbokföringen hotad
move | Barnen bor växelvis hos oss, var ska de vara folkbokförda? | Vi är skilda och barnen bor varannan vecka hos mig och hos pappan. | växelvis boende barnen folkbokförd
parental | Föräldrapenning för tvillingar, får vi fler dagar? | Vi väntar tvillingar i höst och har hört att man får extra dagar. | tvillingarna föräldrapenningen extra | ~tvilingar föräldrapenning
parental | Dubbeldagar: kan båda föräldrarna vara hemma samtidigt? | Vi vill vara hemma tillsammans de första veckorna med dubbeldagar. | dubbeldag båda föräldrar hemma
parental | Föräldrapenning när man är egenföretagare | Jag driver enskild firma och vet inte hur min inkomst beräknas. | egenföretagaren föräldrapenning enskild firma
parental | Kan vi överlåta föräldradagar till mormor? | Mormor ska ta hand om barnet några veckor i vår medan vi arbetar. | överlåter föräldradagarna mormor
permit | Behövs bygglov för solceller på taket? | Vi vill montera solceller på villans tak i sommar. | solcell taket bygglovet | ~solceler taket bygglov
permit | Strandskydd: får jag bygga en brygga vid sjön? | Tomten ligger vid en sjö och vi vill ha en egen brygga. | bygga bryggan strandskyddet
permit | Marklov för att fälla träd på tomten | Två stora ekar står nära huset och vi vill fälla dem. | fälla ekarna marklov
permit | Rivningslov för en gammal lada | Ladan på gården är fallfärdig och ska rivas i höst. | riva ladan rivningslovet
passport | Nödpass på flygplatsen, hur fungerar det? | Jag glömde passet hemma och flyget går i morgon bitti. | nödpasset flygplatsen | ~nödpas flygplatsen
passport | Pass för ett nyfött barn före semestern | Vår bebis är tre veckor gammal och vi ska resa på semester. | nyfödda bebisen pass semester
passport | Måste jag byta pass efter namnbyte vid giftermål? | Jag har tagit min makes efternamn när vi gifte oss. | namnbytet giftermålet passet
passport | Passfoto med glasögon godkändes inte | Jag har starka glasögon och undrar om jag måste ta av dem på fotot. | glasögonen passfotot | ~glasögonen passfotto
eid | Spärra BankID när telefonen blivit stulen | Min mobil stals på tåget och mitt BankID finns i den. | stulna telefonen spärra bankid
eid | ID-kort för barn som är tretton år | Min dotter är tretton år och behöver en egen legitimation. | id-kort barnet tretton år
eid | E-legitimation för personer med skyddad identitet | Jag har skyddade personuppgifter och kan inte få BankID. | skyddade identiteten e-legitimation
eid | Hämta ID-kort med fullmakt åt en förälder på sjukhus | Min pappa ligger på sjukhus och kan inte hämta sitt kort själv. | fullmakten hämta id-kort sjukhuset
tax | Rotavdrag för ett nytt badrum | Vi renoverade badrummet och hantverkaren drog av för lite. | rotavdraget badrummet | ~rotavdrag badrumet
tax | Skatt på vinst från kryptovaluta | Jag sålde bitcoin med vinst förra året och vet inte hur det deklareras. | kryptovalutor vinsten skatt
tax | Deklarera uthyrning av fritidshus | Vi hyr ut stugan i fjällen under sportlovet varje år. | uthyrd fritidshuset deklarera
tax | Dubbelbeskattning när man arbetar i Norge men bor i Sverige | Jag pendlar över gränsen varje vecka och betalar skatt i båda länderna. | dubbelbeskattad pendlar norge
licence | Körkortet återkallat efter fortkörning, vad händer nu? | Jag körde för fort och fick körkortet indraget i tre månader. | återkallade körkortet fortkörningen
licence | Byta ett brasilianskt körkort mot ett svenskt | Jag har ett körkort från Brasilien och har bott här i ett år. | brasilianska körkortet byta | ~brasilianskt körkot
licence | Synkrav för körkort efter en gråstarrsoperation | Jag opererade gråstarr i våras och undrar om synen räcker. | gråstarrsoperationen synkraven körkort
licence | Handledartillstånd för övningskörning med min son | Jag vill övningsköra med min son som fyller sexton. | handledartillståndet övningskörning
jobless | A-kassa efter att ha drivit eget företag | Jag har lagt ner min firma och söker nu ersättning. | a-kassan företaget nedlagt
jobless | Ersättning vid korttidsarbete och permittering | Min arbetsgivare har infört korttidsarbete på grund av brist på order. | korttidsarbetet permitterad ersättning
jobless | Starta eget-bidrag för att öppna ett café | Jag vill starta ett café och har hört om stöd från Arbetsförmedlingen. | starta eget bidraget café | ~starta eget bidrag kafe
pension | Pension från Tyskland för åren som gästarbetare | Jag arbetade som gästarbetare i Tyskland på sjuttiotalet. | gästarbetaren tyska pensionen
pension | Garantipension när man har bott kort tid i Sverige | Jag kom hit som vuxen och har bara bott här i femton år. | garantipensionen bott kort
pension | Bostadstillägg för pensionärer när hyran höjs | Jag är pensionär och hyran har höjts kraftigt i år. | bostadstillägget pensionären hyran
school | Skolskjuts för barn med funktionsnedsättning | Vår son har autism och behöver skolskjuts till en annan skola. | skolskjutsen autism
school | Modersmålsundervisning i japanska i grundskolan | Vår dotter talar japanska hemma och vi vill att hon får modersmål. | modersmålet japanska undervisning
"""

# -- Danish -------------------------------------------------------------------------

DA_SLOTS = {
    "city": "Aarhus Odense Aalborg Esbjerg Randers Kolding Horsens Vejle Roskilde København",
    "country": "Sverige Norge Tyskland Finland Spanien Japan Polen USA",
    "month": "januar februar marts april maj juni juli august september oktober november december",
    "n": "2 3 4 5 6 7 8 10 12",
    "child": "vores søn|vores datter|vores første barn|vores andet barn|vores lille pige",
    "building": "carport garage udestue skur hegn altan terrasse",
    "age": "66 67 68 69",
}
DA_FILLER = """
Hej!
Tak på forhånd for hjælpen.
Jeg har ledt på hjemmesiden men kan ikke finde et svar.
Er der nogen der har prøvet det samme?
Jeg ringede til borgerservice men ventede i over en time.
Det ville være rart med et klart svar fra jer.
Tak, det lykkedes til sidst.
Jeg forstår ikke helt hvad der gælder i min situation.
Det er første gang jeg gør det her.
Jeg håber nogen kan hjælpe mig.
Jeg har sendt en mail men har ikke fået svar endnu.
Oplysningerne på siden er svære at finde.
"""
DA_THEMES = """
## move
T Hvordan melder jeg flytning til en ny adresse i {city}?
T Jeg er flyttet til {city}, skal jeg selv ændre min adresse?
T Hvor lang tid tager det at registrere en adresseændring?
T Vi flytter i {month}, hvornår skal vi melde flytningen?
T Forkert adresse i folkeregistret efter flytningen til {city}
S Vi flyttede til {city} i {month} og posten kommer stadig til den gamle adresse.
S Jeg meldte flytning for {n} uger siden men har ikke hørt noget.
S Min kæreste og jeg skal flytte sammen og vil vide hvordan folkeregistreringen fungerer.
S Skal alle i familien melde flytning hver for sig eller er én anmeldelse nok?
S Jeg bor midlertidigt hos en ven i {city} i nogle måneder.
S Eftersendelse af post er bestilt men adresseændringen kan ikke ses i systemet.
A Du melder flytning digitalt med MitID senest fem dage efter at du er flyttet.
A Adresseændringen registreres normalt inden for få dage og du får et brev på den nye adresse.
## parental
T Hvordan søger jeg om barselsdagpenge for {child}?
T Kan jeg tage barsel på deltid?
T Hvor mange ugers barsel har vi tilbage?
T Barselsdagpengene er ikke blevet udbetalt i {month}
S Vi fik {child} i {month} og vil dele ugerne ligeligt mellem os.
S Min arbejdsgiver vil vide hvor længe jeg er på barsel.
S Jeg har søgt om {n} uger men kun fået dagpenge for nogle af dem.
S Hvordan beregnes beløbet hvis jeg har været studerende?
S Kan bedsteforældre få overdraget uger?
A Du søger om barselsdagpenge på borger.dk senest otte uger efter at orloven begynder.
A Udbetalingen sker den sidste hverdag i måneden hvis ansøgningen kommer ind til tiden.
## permit
T Skal jeg have byggetilladelse til at bygge en {building}?
T Hvor lang er sagsbehandlingstiden for byggetilladelse i {city}?
T Hvilke tegninger skal jeg sende med ansøgningen om byggetilladelse?
T Naboen har bygget en {building} uden tilladelse
S Vi planlægger at bygge en {building} på grunden til sommer.
S Kommunen bad om flere tegninger og nu er der gået {n} uger.
S Gælder de samme regler for et anneks som for en almindelig tilbygning?
S Facaden skal have en ny farve og jeg er i tvivl om det kræver tilladelse.
S Hvad koster en byggetilladelse cirka for en {building}?
A Ansøgningen om byggetilladelse indsendes digitalt med situationsplan, facadetegninger og plantegning.
A Sagsbehandlingstiden er højst ti uger fra ansøgningen er komplet.
## passport
T Hvordan bestiller jeg tid til at forny mit pas?
T Mit pas udløber i {month}, kan jeg nå at få et nyt før rejsen?
T Kan jeg søge om pas til {child} uden begge forældre?
T Jeg har mistet mit pas, hvad skal jeg gøre?
S Vi skal rejse til {country} og passet er snart ugyldigt.
S Der er ingen ledige tider i borgerservice i {city} de næste uger.
S Skal jeg have det gamle pas med når jeg henter det nye?
S Billedet tages på stedet når man søger om pas.
A Du bestiller tid til pasansøgning på nettet og medbringer gyldig legitimation.
A Passet er som regel klar til afhentning inden for to uger.
## eid
T Hvordan søger jeg om et nyt sundhedskort?
T Jeg kan ikke logge ind med mit MitID
T Kan jeg hente mit id-kort i et andet borgerservice i {city}?
T Mit id-kort er væk, hvordan spærrer jeg det?
S MitID appen holdt op med at virke efter at jeg skiftede telefon.
S Jeg har ikke noget dansk id og skal legitimere mig.
S Kortet blev sendt til det forkerte borgerservice og nu ved jeg ikke hvor det er.
S Hvor lang tid tager det at få et nyt id-kort?
A Id-kortet bestilles i borgerservice og er klar til afhentning efter cirka to uger.
A Kontakt MitID support hvis din app ikke virker eller din kodeviser er bortkommet.
## tax
T Hvornår får jeg min overskydende skat tilbage?
T Hvordan får jeg fradrag for transport til arbejde?
T Jeg har fået restskat, hvordan betaler jeg den?
T Årsopgørelsen er forkert, kan jeg rette den bagefter?
S Jeg har arbejdet i {country} en del af året og ved ikke hvor jeg skal betale skat.
S Den overskydende skat er ikke kommet selvom jeg rettede årsopgørelsen i {month}.
S Jeg solgte min andelslejlighed og vil vide hvordan gevinsten beskattes.
S Arbejdsgiveren har trukket for lidt skat af lønnen.
A Du kan rette din årsopgørelse på skat.dk frem til 1. maj.
A Du kan anmode om genoptagelse af din skatteansættelse i op til tre år.
## licence
T Hvordan fornyer jeg mit kørekort?
T Kørekortet er bortkommet, hvordan bestiller jeg et nyt?
T Hvor lang tid tager det at få en lægeerklæring til kørekort?
T Gælder mit kørekort fra {country} i Danmark?
S Jeg har bestået køreprøven men kortet er ikke kommet.
S Lægeerklæringen blev sendt for {n} uger siden.
S Billedet på kørekortet skal fornyes hvert femtende år.
S Skal jeg tage en ny synstest?
A Et nyt kørekort bestilles i borgerservice og sendes til din folkeregisteradresse.
A Sager om kørekort behandles normalt inden for fire uger.
## jobless
T Hvordan søger jeg om dagpenge fra a-kassen?
T Jeg blev fyret i {month}, hvad skal jeg gøre først?
T Hvor meget får jeg i dagpenge?
T Skal jeg søge job hver måned for at få dagpenge?
S Jeg har arbejdet på deltid i {n} år og er i tvivl om jeg opfylder kravene.
S Min ansættelse sluttede og jeg har tilmeldt mig jobcentret.
S Jobloggen blev opdateret for sent i denne måned.
S Kan jeg studere og samtidig få dagpenge?
A Tilmeld dig jobcentret den første dag du er ledig og søg derefter dagpenge hos din a-kasse.
A Du skal søge job og opdatere din joblog hver uge.
## pension
T Hvornår kan jeg gå på folkepension?
T Hvordan beregnes min pension hvis jeg har arbejdet i {country}?
T Kan jeg arbejde og få folkepension samtidig?
T Pensionen blev lavere end forventet
S Jeg fylder {age} i {month} og vil vide hvad der sker med min indtægt.
S Jeg har arbejdet i udlandet i mange år og vil vide om de år tæller med.
S Min mand døde og jeg vil høre om efterlevelseshjælp.
S Oversigten fra pensionskassen passer ikke med mine oplysninger.
A Du kan søge folkepension på borger.dk tidligst seks måneder før du når pensionsalderen.
A Folkepensionen udbetales den sidste hverdag i måneden.
## school
T Hvordan skriver jeg mit barn op til en børnehave i {city}?
T Hvor lang er ventelisten til vuggestuen?
T Kan vi skifte skole midt i skoleåret?
T Hvad koster en plads i børnehave om måneden?
S Vi er flyttet og skal have en ny børnehave til {child}.
S Barnet skal starte i skole i august og vi har ikke fået besked om skolen.
S Min datter vil gerne skifte til en skole tættere på hjemmet.
S Vi har fået tilbudt en plads men den ligger langt væk.
A Skriv dit barn op til dagtilbud senest tre måneder før pladsen skal bruges.
A Forældrebetalingen afhænger af husstandens indkomst og du kan søge om friplads.
"""
DA_NEEDLES = """
move | Hvordan melder jeg flytning når jeg flytter til udlandet til Canada? | Jeg skal arbejde i Canada i to år og er i tvivl om jeg bliver afmeldt folkeregistret. | flytter udlandet canada | ~meldte flytningen udlandet canda
move | Hvilken adresse gælder når jeg fremlejer en kollegieværelse? | Jeg fremlejer et kollegieværelse mens jeg studerer. | kollegieværelset fremleje adresse
move | Navne- og adressebeskyttelse efter trusler, hvordan søger jeg? | Jeg er blevet truet og vil have at min adresse skal være hemmelig. | adressebeskyttelsen truet
move | Børnene bor skiftevis hos os, hvor skal de være tilmeldt? | Vi er skilt og børnene bor hver anden uge hos mig og hos deres far. | skiftevis bopæl børnene tilmeldt
parental | Barselsdagpenge til tvillinger, får vi flere uger? | Vi venter tvillinger til efteråret og har hørt at man får ekstra uger. | tvillingerne barselsdagpengene ekstra | ~tvilinger barsel
parental | Kan begge forældre holde barsel samtidig? | Vi vil gerne være hjemme sammen de første uger efter fødslen. | begge forældrene barsel samtidigt
parental | Barselsdagpenge når man er selvstændig | Jeg har en enkeltmandsvirksomhed og ved ikke hvordan min indtægt beregnes. | selvstændige barselsdagpenge enkeltmandsvirksomhed
parental | Kan vi overdrage barselsuger til mormor? | Mormor skal passe barnet nogle uger i foråret mens vi arbejder. | overdrager barselsugerne mormor
permit | Kræver solceller på taget byggetilladelse? | Vi vil montere solceller på husets tag til sommer. | solcellerne taget byggetilladelsen | ~solcelerne taget tilladelse
permit | Strandbeskyttelse: må jeg bygge en bådebro ved søen? | Grunden ligger ved en sø og vi vil gerne have vores egen bådebro. | bygge bådebroen strandbeskyttelsen
permit | Tilladelse til at fælde træer på grunden | To store egetræer står tæt på huset og vi vil fælde dem. | fælde egetræerne tilladelse
permit | Nedrivningstilladelse til en gammel lade | Laden på gården er faldefærdig og skal rives ned til efteråret. | rive laden nedrivningstilladelsen
passport | Nødpas i lufthavnen, hvordan fungerer det? | Jeg glemte passet derhjemme og flyet letter i morgen tidlig. | nødpasset lufthavnen | ~nødpas lufthavne
passport | Pas til en nyfødt baby før ferien | Vores baby er tre uger gammel og vi skal på ferie. | nyfødte babyen pas ferien
passport | Skal jeg skifte pas efter navneændring ved bryllup? | Jeg har taget min mands efternavn da vi blev gift. | navneændringen brylluppet passet
passport | Pasbillede med briller blev ikke godkendt | Jeg har stærke briller og er i tvivl om jeg skal tage dem af på billedet. | brillerne pasbilledet | ~brillerne pasbiledet
eid | Spærre MitID når telefonen er blevet stjålet | Min mobil blev stjålet i toget og min MitID app er på den. | stjålne telefon spærre mitid
eid | Id-kort til et barn på tretten år | Min datter er tretten år og skal have sin egen legitimation. | id-kort barnet tretten år
eid | MitID for personer med navne- og adressebeskyttelse | Jeg har beskyttede oplysninger og kan ikke få MitID på normal vis. | beskyttede oplysninger mitid
eid | Hente id-kort med fuldmagt for en forælder på hospitalet | Min far er indlagt på hospitalet og kan ikke selv hente sit kort. | fuldmagten hente id-kort hospitalet
tax | Håndværkerfradrag for et nyt badeværelse | Vi renoverede badeværelset og håndværkeren skrev forkert på fakturaen. | håndværkerfradraget badeværelset | ~håndværkerfradrag badværelset
tax | Skat af gevinst fra kryptovaluta | Jeg solgte bitcoin med gevinst sidste år og ved ikke hvordan det oplyses. | kryptovalutaen gevinsten skat
tax | Udlejning af sommerhus og skat | Vi lejer sommerhuset ud i vinterferien hvert år. | udlejet sommerhuset skat
tax | Dobbeltbeskatning når man arbejder i Sverige men bor i Danmark | Jeg pendler over broen hver uge og betaler skat i begge lande. | dobbeltbeskattet pendler sverige
licence | Kørekortet frakendt efter fartbøde, hvad sker der nu? | Jeg kørte for stærkt og fik kørekortet frakendt i tre måneder. | frakendte kørekortet fartbøden
licence | Ombytte et brasiliansk kørekort til et dansk | Jeg har et kørekort fra Brasilien og har boet her i et år. | brasilianske kørekortet ombytte | ~brasiliansk kørekot
licence | Synskrav til kørekort efter en operation for grå stær | Jeg blev opereret for grå stær i foråret og er i tvivl om synet er godt nok. | grå stær synskravene kørekort
licence | Ledsager til øvelseskørsel med min søn | Jeg vil gerne øvelseskøre med min søn som fylder sytten. | ledsageren øvelseskørslen
jobless | Dagpenge efter at have drevet egen virksomhed | Jeg har lukket min virksomhed og søger nu dagpenge. | dagpengene virksomheden lukket
jobless | Dagpenge ved arbejdsfordeling og hjemsendelse | Min arbejdsgiver har indført arbejdsfordeling på grund af mangel på ordrer. | arbejdsfordelingen hjemsendt dagpenge
jobless | Starte egen virksomhed og åbne en café med støtte | Jeg vil åbne en café og har hørt om støtte fra jobcentret. | starte egen virksomhed støtten café | ~starte egen virksomhed kafe
pension | Pension fra Tyskland for årene som gæstearbejder | Jeg arbejdede som gæstearbejder i Tyskland i halvfjerdserne. | gæstearbejderen tyske pensionen
pension | Brøkpension når man har boet kort tid i Danmark | Jeg kom hertil som voksen og har kun boet her i femten år. | brøkpensionen boet kort
pension | Boligstøtte til pensionister når huslejen stiger | Jeg er pensionist og huslejen er steget meget i år. | boligstøtten pensionisten huslejen
school | Befordring til skole for børn med handicap | Vores søn har autisme og skal køres til en anden skole. | befordringen autisme
school | Modersmålsundervisning i japansk i folkeskolen | Vores datter taler japansk derhjemme og vi vil gerne have modersmålsundervisning. | modersmålsundervisningen japansk
"""

# -- German -------------------------------------------------------------------------

DE_SLOTS = {
    "city": "Berlin Hamburg München Köln Leipzig Dresden Bremen Kiel Freiburg Nürnberg",
    "country": "Österreich Schweden Dänemark Polen Spanien Japan Frankreich USA",
    "month": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "n": "2 3 4 5 6 7 8 10 12",
    "child": "unseren Sohn|unsere Tochter|unser erstes Kind|unser zweites Kind|unsere kleine Tochter",
    "building": "Gartenhaus Garage Wintergarten Carport Zaun Balkon Terrasse",
    "age": "63 64 65 66 67",
}
DE_FILLER = """
Hallo zusammen!
Vielen Dank im Voraus für die Hilfe.
Ich habe auf der Webseite gesucht, aber keine Antwort gefunden.
Hat jemand schon einmal das Gleiche erlebt?
Ich habe bei der Hotline angerufen und über eine Stunde gewartet.
Eine klare Antwort von Ihnen wäre hilfreich.
Danke, es hat sich am Ende geklärt.
Ich verstehe nicht ganz, was in meinem Fall gilt.
Ich mache das zum ersten Mal.
Ich hoffe, dass mir jemand helfen kann.
Ich habe eine E-Mail geschrieben, aber noch keine Antwort bekommen.
Die Informationen auf der Seite sind schwer zu finden.
"""
DE_THEMES = """
## move
T Wie melde ich meinen Umzug an eine neue Adresse in {city} an?
T Ich bin nach {city} gezogen, muss ich meine Adresse selbst ändern?
T Wie lange dauert die Ummeldung der Adresse?
T Wir ziehen im {month} um, wann müssen wir uns ummelden?
T Falsche Adresse im Melderegister nach dem Umzug nach {city}
S Wir sind im {month} nach {city} gezogen und die Post kommt immer noch an die alte Adresse.
S Ich habe mich vor {n} Wochen umgemeldet, aber noch keine Bestätigung bekommen.
S Mein Partner und ich ziehen zusammen und wir fragen uns, wie die Anmeldung funktioniert.
S Muss sich jedes Familienmitglied einzeln ummelden oder reicht eine Anmeldung?
S Ich wohne ein paar Monate vorübergehend bei einem Freund in {city}.
S Der Nachsendeauftrag ist bestellt, aber die Adressänderung ist im System nicht zu sehen.
A Die Anmeldung muss innerhalb von zwei Wochen nach dem Einzug beim Bürgeramt erfolgen.
A Bringen Sie Ihren Personalausweis und die Wohnungsgeberbestätigung zum Termin mit.
## parental
T Wie beantrage ich Elterngeld für {child}?
T Kann ich Elterngeld in Teilzeit beziehen?
T Wie viele Monate Elterngeld haben wir noch?
T Das Elterngeld wurde im {month} nicht ausgezahlt
S Wir haben im {month} {child} bekommen und wollen die Monate gleich aufteilen.
S Mein Arbeitgeber möchte wissen, wie lange ich in Elternzeit bin.
S Ich habe {n} Monate beantragt, aber nur für einige davon Geld bekommen.
S Wie wird das Einkommen berechnet, wenn ich vorher studiert habe?
S Können Großeltern Elternzeit übernehmen?
A Den Antrag auf Elterngeld stellen Sie bei der Elterngeldstelle, rückwirkend höchstens für drei Monate.
A Das Elterngeld wird monatlich im Voraus ausgezahlt, sobald der Bescheid vorliegt.
## permit
T Brauche ich eine Baugenehmigung für ein {building}?
T Wie lange dauert eine Baugenehmigung in {city}?
T Welche Zeichnungen gehören zum Bauantrag?
T Der Nachbar hat ein {building} ohne Genehmigung gebaut
S Wir planen, im Sommer ein {building} auf dem Grundstück zu bauen.
S Das Bauamt hat weitere Unterlagen angefordert und jetzt sind {n} Wochen vergangen.
S Gelten für ein kleines Nebengebäude die gleichen Regeln wie für einen Anbau?
S Die Fassade soll eine neue Farbe bekommen und ich frage mich, ob das genehmigt werden muss.
S Was kostet eine Baugenehmigung ungefähr für ein {building}?
A Der Bauantrag wird mit Lageplan, Bauzeichnungen und Baubeschreibung beim Bauamt eingereicht.
A Die Bearbeitungszeit beträgt höchstens drei Monate ab Vollständigkeit der Unterlagen.
## passport
T Wie buche ich einen Termin für einen neuen Reisepass?
T Mein Reisepass läuft im {month} ab, bekomme ich rechtzeitig einen neuen?
T Kann ich einen Reisepass für {child} ohne beide Eltern beantragen?
T Ich habe meinen Reisepass verloren, was soll ich tun?
S Wir reisen nach {country} und der Reisepass ist bald ungültig.
S Im Bürgeramt in {city} gibt es in den nächsten Wochen keine freien Termine.
S Muss ich den alten Pass mitbringen, wenn ich den neuen abhole?
S Das Foto muss biometrisch sein und darf nicht älter als sechs Monate sein.
A Termine für den Reisepass buchen Sie online und bringen ein biometrisches Passfoto mit.
A Die Herstellung des Reisepasses dauert in der Regel drei bis vier Wochen.
## eid
T Wie beantrage ich einen neuen Personalausweis?
T Die Online-Ausweisfunktion funktioniert nicht
T Kann ich den Personalausweis in einem anderen Bürgeramt in {city} abholen?
T Mein Personalausweis ist weg, wie sperre ich ihn?
S Die App für den Online-Ausweis funktioniert nach dem Handywechsel nicht mehr.
S Ich habe keinen deutschen Ausweis und muss mich ausweisen.
S Der Ausweis wurde an das falsche Bürgeramt geschickt und jetzt weiß ich nicht, wo er ist.
S Wie lange dauert es, einen neuen Ausweis zu bekommen?
A Den Personalausweis beantragen Sie persönlich im Bürgeramt, er ist nach etwa drei Wochen fertig.
A Die PIN für den Online-Ausweis können Sie mit dem PIN-Rücksetzbrief neu setzen.
## tax
T Wann bekomme ich meine Steuererstattung?
T Wie setze ich Fahrtkosten zur Arbeit ab?
T Ich muss Steuern nachzahlen, wie überweise ich das?
T Der Steuerbescheid ist falsch, kann ich ihn nachträglich ändern?
S Ich habe einen Teil des Jahres in {country} gearbeitet und weiß nicht, wo ich Steuern zahlen muss.
S Die Erstattung ist nicht gekommen, obwohl ich die Steuererklärung im {month} abgegeben habe.
S Ich habe meine Eigentumswohnung verkauft und frage mich, wie der Gewinn besteuert wird.
S Der Arbeitgeber hat zu wenig Lohnsteuer einbehalten.
A Die Steuererklärung geben Sie elektronisch über ELSTER ab, die Frist endet am 31. Juli.
A Gegen den Steuerbescheid können Sie innerhalb eines Monats Einspruch einlegen.
## licence
T Wie tausche ich meinen alten Führerschein um?
T Der Führerschein ist verloren, wie beantrage ich einen neuen?
T Wie lange dauert der Antrag auf einen Führerschein?
T Gilt mein Führerschein aus {country} in Deutschland?
S Ich habe die Prüfung bestanden, aber der Führerschein ist noch nicht da.
S Das ärztliche Gutachten habe ich vor {n} Wochen eingereicht.
S Der neue Kartenführerschein ist nur fünfzehn Jahre gültig.
S Muss ich einen neuen Sehtest machen?
A Einen Ersatzführerschein beantragen Sie bei der Führerscheinstelle mit Passfoto und Ausweis.
A Anträge auf einen Führerschein werden normalerweise innerhalb von vier Wochen bearbeitet.
## jobless
T Wie beantrage ich Arbeitslosengeld?
T Mir wurde im {month} gekündigt, was muss ich zuerst tun?
T Wie viel Arbeitslosengeld bekomme ich?
T Muss ich mich jeden Monat bewerben, um Arbeitslosengeld zu bekommen?
S Ich habe {n} Jahre in Teilzeit gearbeitet und weiß nicht, ob ich die Anwartschaft erfülle.
S Meine Stelle ist ausgelaufen und ich habe mich bei der Agentur für Arbeit gemeldet.
S Die Nachweise über meine Bewerbungen habe ich diesen Monat zu spät geschickt.
S Kann ich studieren und gleichzeitig Arbeitslosengeld bekommen?
A Melden Sie sich spätestens drei Monate vor dem Ende der Beschäftigung arbeitsuchend.
A Das Arbeitslosengeld beträgt in der Regel sechzig Prozent des letzten Nettolohns.
## pension
T Wann kann ich in Rente gehen?
T Wie wird meine Rente berechnet, wenn ich in {country} gearbeitet habe?
T Kann ich arbeiten und gleichzeitig Rente beziehen?
T Die Rente ist niedriger als erwartet
S Ich werde im {month} {age} und möchte wissen, was mit meinem Einkommen passiert.
S Ich habe viele Jahre im Ausland gearbeitet und frage mich, ob diese Jahre zählen.
S Mein Mann ist gestorben und ich möchte mich über die Witwenrente informieren.
S Die Renteninformation stimmt nicht mit meinen Unterlagen überein.
A Die Regelaltersrente beantragen Sie drei Monate vor Rentenbeginn bei der Rentenversicherung.
A Die Rente wird am Ende des Monats ausgezahlt.
## school
T Wie bekomme ich einen Kitaplatz in {city}?
T Wie lang ist die Warteliste für die Kita?
T Können wir mitten im Schuljahr die Schule wechseln?
T Was kostet ein Kitaplatz im Monat?
S Wir sind umgezogen und brauchen eine neue Kita für {child}.
S Das Kind kommt im August in die Schule und wir haben noch keine Zusage.
S Meine Tochter möchte auf eine Schule näher an unserer Wohnung wechseln.
S Uns wurde ein Platz angeboten, aber er ist sehr weit weg.
A Melden Sie den Kitaplatz spätestens sechs Monate vor dem gewünschten Beginn an.
A Die Elternbeiträge richten sich nach dem Einkommen der Familie.
"""
DE_NEEDLES = """
move | Wie melde ich mich ab, wenn ich ins Ausland nach Kanada ziehe? | Ich werde zwei Jahre in Kanada arbeiten und frage mich, ob ich mich abmelden muss. | umziehen ausland kanada abmeldung | ~abmelden ausland kanda
move | Welche Adresse gilt, wenn ich ein WG-Zimmer zur Untermiete habe? | Ich wohne während des Studiums zur Untermiete in einem WG-Zimmer. | untermieter wg-zimmer adresse
move | Auskunftssperre im Melderegister nach Drohungen, wie beantrage ich sie? | Ich wurde bedroht und möchte, dass meine Adresse geheim bleibt. | auskunftssperren bedrohung
move | Die Kinder wohnen im Wechselmodell bei uns, wo werden sie gemeldet? | Wir sind geschieden und die Kinder wohnen abwechselnd eine Woche bei mir und beim Vater. | wechselmodells kinder gemeldet
parental | Elterngeld für Zwillinge, bekommen wir mehr Monate? | Wir erwarten im Herbst Zwillinge und haben von zusätzlichen Monaten gehört. | zwilling elterngeldes zusätzlich | ~zwilinge elterngeld
parental | Partnerschaftsbonus: können beide Eltern gleichzeitig Teilzeit arbeiten? | Wir wollen beide gleichzeitig in Teilzeit arbeiten und den Bonus nutzen. | partnerschaftsbonus beide teilzeit
parental | Elterngeld für Selbstständige | Ich bin selbstständig mit einem kleinen Laden und weiß nicht, wie mein Einkommen berechnet wird. | selbstständiger elterngeld laden
parental | Können wir Elternzeit auf die Oma übertragen? | Die Oma soll das Kind im Frühjahr ein paar Wochen betreuen, während wir arbeiten. | übertragung elternzeit oma
permit | Brauchen Solaranlagen auf dem Dach eine Genehmigung? | Wir wollen im Sommer Solarmodule auf dem Dach unseres Hauses montieren. | solaranlage dach genehmigungen | ~solaranlagen dahc genehmigung
permit | Darf ich im Uferbereich einen Bootssteg am See bauen? | Das Grundstück liegt an einem See und wir möchten einen eigenen Bootssteg. | bootsstegs uferbereich bauen
permit | Genehmigung zum Fällen von Bäumen im Garten | Zwei große Eichen stehen nah am Haus und wir möchten sie fällen. | eiche fällen genehmigt
permit | Abrissgenehmigung für eine alte Scheune | Die Scheune auf dem Hof ist baufällig und soll im Herbst abgerissen werden. | scheunen abreißen abrissgenehmigung
passport | Vorläufiger Reisepass am Flughafen, wie funktioniert das? | Ich habe den Pass zu Hause vergessen und der Flug geht morgen früh. | vorläufigen reisepasses flughafen | ~vorläufiger reisepas flughafen
passport | Reisepass für ein neugeborenes Baby vor dem Urlaub | Unser Baby ist drei Wochen alt und wir wollen in den Urlaub fahren. | neugeborenen babys reisepass urlaub
passport | Muss ich nach der Namensänderung durch Heirat einen neuen Pass beantragen? | Ich habe bei der Hochzeit den Nachnamen meines Mannes angenommen. | namensänderungen heirat pass
passport | Passfoto mit Brille wurde abgelehnt | Ich trage eine starke Brille und frage mich, ob ich sie auf dem Foto abnehmen muss. | brillen passfotos abgelehnt | ~brille pasfoto
eid | Online-Ausweis sperren, nachdem das Handy gestohlen wurde | Mein Handy wurde im Zug gestohlen und die Ausweis-App ist darauf. | gestohlenes handy ausweis sperren
eid | Personalausweis für ein Kind mit dreizehn Jahren | Meine Tochter ist dreizehn und braucht einen eigenen Ausweis. | personalausweise kind dreizehn
eid | Ausweis bei Auskunftssperre und Zeugenschutz | Ich stehe im Zeugenschutz und weiß nicht, wie ich einen Ausweis bekomme. | zeugenschutzes ausweis
eid | Personalausweis mit Vollmacht für einen Elternteil im Krankenhaus abholen | Mein Vater liegt im Krankenhaus und kann seinen Ausweis nicht selbst abholen. | vollmachten abholen krankenhaus ausweis
tax | Handwerkerleistungen für ein neues Badezimmer absetzen | Wir haben das Badezimmer renoviert und die Rechnung des Handwerkers ist falsch. | handwerkerleistung badezimmers absetzen | ~handwerkerleistungen badezimer
tax | Steuern auf Gewinne aus Kryptowährungen | Ich habe letztes Jahr Bitcoin mit Gewinn verkauft und weiß nicht, wie ich das angebe. | kryptowährung gewinne steuer
tax | Vermietung einer Ferienwohnung in der Steuererklärung | Wir vermieten unsere Ferienwohnung an der Ostsee jeden Sommer. | vermietete ferienwohnungen steuererklärung
tax | Doppelbesteuerung beim Arbeiten in Österreich und Wohnen in Deutschland | Ich pendle jede Woche über die Grenze und zahle in beiden Ländern Steuern. | doppelbesteuert pendeln österreich
licence | Führerschein nach Fahrverbot wegen zu schnellem Fahren | Ich bin zu schnell gefahren und habe drei Monate Fahrverbot bekommen. | fahrverbots führerschein schnell
licence | Brasilianischen Führerschein in einen deutschen umschreiben | Ich habe einen Führerschein aus Brasilien und wohne seit einem Jahr hier. | brasilianischer führerscheins umschreiben | ~brasilianischen führershein
licence | Sehvermögen für den Führerschein nach einer Operation am grauen Star | Ich wurde im Frühjahr am grauen Star operiert und frage mich, ob die Sehkraft reicht. | grauer star operation führerschein
licence | Begleitetes Fahren mit siebzehn mit meinem Sohn | Ich möchte als Begleitperson mit meinem Sohn fahren, der siebzehn wird. | begleitet fahren siebzehn begleitperson
jobless | Arbeitslosengeld nach der Selbstständigkeit | Ich habe mein Geschäft aufgegeben und beantrage jetzt Arbeitslosengeld. | selbstständigkeit aufgegeben arbeitslosengeld
jobless | Kurzarbeitergeld bei Auftragsmangel | Mein Arbeitgeber hat wegen fehlender Aufträge Kurzarbeit angemeldet. | kurzarbeit auftragsmangels
jobless | Gründungszuschuss für die Eröffnung eines Cafés | Ich möchte ein Café eröffnen und habe von einem Zuschuss der Agentur gehört. | gründungszuschusses café eröffnen | ~gründungszuschuss kaffe eröffnen
pension | Rente aus Schweden für die Jahre als Gastarbeiter | Ich habe in den siebziger Jahren als Gastarbeiter in Schweden gearbeitet. | gastarbeitern schwedische rente
pension | Grundrente bei nur wenigen Beitragsjahren | Ich bin als Erwachsener gekommen und habe nur fünfzehn Jahre eingezahlt. | grundrenten beitragsjahre
pension | Wohngeld für Rentner, wenn die Miete steigt | Ich bin Rentner und meine Miete wurde dieses Jahr stark erhöht. | wohngeldes rentnerin miete
school | Schülerbeförderung für Kinder mit Behinderung | Unser Sohn hat Autismus und muss zu einer anderen Schule gefahren werden. | schülerbeförderungen autismus
school | Herkunftssprachlicher Unterricht in Japanisch an der Grundschule | Unsere Tochter spricht zu Hause Japanisch und soll Unterricht in ihrer Sprache bekommen. | herkunftssprachlichen unterricht japanisch
"""

# -- Japanese (no spaces; a "word" is about two characters) ----------------------------

JA_SLOTS = {
    "city": "札幌 仙台 横浜 名古屋 京都 大阪 神戸 広島 福岡 那覇",
    "country": "アメリカ 韓国 中国 ドイツ フランス タイ ブラジル スウェーデン",
    "month": "一月 二月 三月 四月 五月 六月 七月 八月 九月 十月 十一月 十二月",
    "n": "2 3 4 5 6 7 8 10 12",
    "child": "長男|長女|第一子|第二子|赤ちゃん",
    "building": "物置 車庫 サンルーム カーポート フェンス ベランダ ウッドデッキ",
    "age": "60 63 65 70",
}
JA_FILLER = """
こんにちは。
よろしくお願いします。
ホームページを探しましたが答えが見つかりません。
同じ経験をした方はいますか。
電話窓口に電話しましたが一時間以上待たされました。
はっきりした回答をいただけると助かります。
ありがとうございます、最終的に解決しました。
自分の場合はどうなるのかよくわかりません。
初めての手続きなので不安です。
どなたか教えていただけると助かります。
メールを送りましたがまだ返事がありません。
ページの情報が見つけにくいです。
"""
JA_THEMES = """
## move
T {city}に引っ越したときの住所変更の手続きを教えてください
T {city}へ転居しましたが住所変更は自分でする必要がありますか
T 転入届の手続きにはどのくらい時間がかかりますか
T {month}に引っ越す予定ですがいつまでに届け出ればいいですか
T 引っ越し後に住民票の住所が間違っています
S {month}に{city}へ引っ越しましたが郵便物がまだ古い住所に届きます。
S {n}週間前に転出届を出しましたがまだ連絡がありません。
S 同居を始める予定で住民票の手続きについて知りたいです。
S 家族全員がそれぞれ届け出る必要がありますか。
S 数か月だけ{city}の友人の家に仮住まいしています。
S 郵便の転送を申し込みましたが住所変更が反映されていません。
A 転入届は引っ越してから十四日以内に市区町村の窓口で提出してください。
A 住所変更の手続きにはマイナンバーカードか本人確認書類が必要です。
## parental
T {child}の育児休業給付金の申請方法を教えてください
T 育児休業給付金は短時間勤務でももらえますか
T 育休はあと何か月取れますか
T {month}分の育児休業給付金が振り込まれていません
S {month}に{child}が生まれて夫婦で育休を分けたいです。
S 会社から育休の期間を聞かれています。
S {n}か月分を申請しましたが一部しか支給されていません。
S 学生だった場合の給付額の計算方法を知りたいです。
S 祖父母が育児を代わることはできますか。
A 育児休業給付金は勤務先を通じてハローワークに申請します。
A 給付金は原則として二か月ごとに振り込まれます。
## permit
T {building}を建てるのに建築確認申請は必要ですか
T {city}の建築確認にはどのくらいかかりますか
T 建築確認申請にはどの図面が必要ですか
T 隣の家が許可なく{building}を建てました
S 夏に敷地に{building}を建てる予定です。
S 市役所から追加の図面を求められてから{n}週間たちました。
S 小さな離れにも増築と同じ規則が適用されますか。
S 外壁の色を変えたいのですが許可が必要ですか。
S {building}の建築確認の費用はいくらくらいですか。
A 建築確認申請は配置図と立面図と平面図を添えて提出してください。
A 審査期間は書類がそろってから最長で三十五日です。
## passport
T パスポートの更新の予約はどうすればいいですか
T {month}にパスポートが切れますが旅行に間に合いますか
T {child}のパスポートは両親がそろわなくても申請できますか
T パスポートをなくしてしまいました
S {country}へ旅行する予定ですがパスポートの期限がもうすぐ切れます。
S {city}の旅券窓口は数週間先まで予約が取れません。
S 新しいパスポートを受け取るときに古いものも必要ですか。
S 写真は申請のときに窓口で撮れますか。
A パスポートの申請はオンラインで予約し有効な本人確認書類を持参してください。
A パスポートは通常一週間ほどで受け取れます。
## eid
T マイナンバーカードの申請方法を教えてください
T マイナンバーカードでログインできません
T {city}の別の窓口でマイナンバーカードを受け取れますか
T マイナンバーカードをなくしたので停止したいです
S スマホを機種変更したらマイナポータルが使えなくなりました。
S 日本の身分証明書を持っていないので本人確認ができません。
S カードが別の窓口に送られてしまい、どこにあるかわかりません。
S 新しいマイナンバーカードはどのくらいで届きますか。
A マイナンバーカードは申請からおよそ一か月で交付通知書が届きます。
A 紛失した場合はマイナンバー総合フリーダイヤルで一時停止してください。
## tax
T 所得税の還付はいつ受けられますか
T 通勤費の控除はどうすればいいですか
T 追加の納税が必要になりましたがどう払えばいいですか
T 確定申告を間違えたのであとから直せますか
S 一年のうち数か月を{country}で働いたのでどこで税金を払うのかわかりません。
S {month}に確定申告をしたのに還付金がまだ振り込まれません。
S マンションを売却したので利益の税金について知りたいです。
S 会社の源泉徴収が少なすぎたようです。
A 確定申告は三月十五日までにe-Taxまたは税務署で行ってください。
A 申告内容の誤りは更正の請求で五年以内に直せます。
## licence
T 運転免許証の更新はどうすればいいですか
T 運転免許証をなくしたので再交付したいです
T 免許の手続きにはどのくらい時間がかかりますか
T {country}の運転免許は日本で使えますか
S 試験に合格しましたがまだ免許証が届きません。
S 診断書を{n}週間前に提出しました。
S 免許証の写真は更新のたびに新しくなります。
S 視力検査をもう一度受ける必要がありますか。
A 運転免許証の再交付は運転免許センターで本人確認書類を持参して申請してください。
A 更新の手続きは誕生日の前後一か月の間に行ってください。
## jobless
T 失業保険の申請方法を教えてください
T {month}に解雇されましたが最初に何をすればいいですか
T 失業手当はいくらもらえますか
T 毎月求職活動をしないと失業手当はもらえませんか
S パートで{n}年働きましたが受給資格があるかわかりません。
S 契約が終わったのでハローワークに登録しました。
S 今月は求職活動の報告が遅れてしまいました。
S 学校に通いながら失業手当を受けられますか。
A 離職票を持ってハローワークで求職の申し込みをしてください。
A 失業認定は四週間に一度ハローワークで行います。
## pension
T 年金はいつから受け取れますか
T {country}で働いた期間の年金はどう計算されますか
T 働きながら年金を受け取れますか
T 年金額が思っていたより少ないです
S {month}に{age}歳になるので収入がどうなるか知りたいです。
S 長年海外で働いていたのでその期間が年金に含まれるか知りたいです。
S 夫が亡くなったので遺族年金について知りたいです。
S ねんきん定期便の内容が自分の記録と合いません。
A 老齢年金は六十五歳から受け取れ、請求書は年金事務所に提出します。
A 年金は偶数月の十五日に二か月分がまとめて支払われます。
## school
T {city}で保育園の入園申し込みはどうすればいいですか
T 保育園の待機児童はどのくらいいますか
T 学期の途中で転校できますか
T 保育料は月にいくらかかりますか
S 引っ越したので{child}の新しい保育園が必要です。
S 子どもが四月に小学校に入学しますがまだ通知がありません。
S 娘が家に近い学校に転校したがっています。
S 入園の案内が届きましたが家から遠い園でした。
A 保育園の申し込みは入園希望月の前月十日までに市役所に提出してください。
A 保育料は世帯の所得によって決まります。
"""
JA_NEEDLES = """
move | カナダへ海外転出するときの届け出を教えてください | カナダで二年間働く予定で住民票を抜く必要があるか知りたいです。 | カナダ海外転出届 | 海外に転出カナダ
move | 学生寮に住む場合の住民票の住所はどこになりますか | 大学の学生寮に住みながら通学しています。 | 学生寮住民票
move | DVから逃れるための住民票の閲覧制限を申請したいです | 暴力を受けていて住所を知られたくありません。 | 閲覧制限申請 | 住民票閲覧制限
move | 子どもが両方の親の家を行き来する場合の住民票 | 離婚して子どもは一週間ごとに私と元夫の家で暮らしています。 | 両方の親子ども住民票
parental | 双子の場合は育児休業給付金が多くなりますか | 秋に双子が生まれる予定で支給期間が延びると聞きました。 | 双子育児休業給付金 | 双子育休延長
parental | パパ・ママ育休プラスで両親が同時に休めますか | 出産後の数週間は夫婦そろって家にいたいです。 | 両親同時育休プラス
parental | 自営業でも育児の給付を受けられますか | 個人事業主として店を経営していて収入の扱いがわかりません。 | 自営業者育児給付 | 個人事業主育休
parental | 祖母に孫の世話を任せる場合の育休の扱い | 春の数週間は祖母が孫の世話をしてくれます。 | 祖母孫世話育休
permit | 屋根に太陽光パネルを付けるのに許可は必要ですか | 夏に自宅の屋根へ太陽光パネルを設置したいです。 | 太陽光パネル屋根許可 | 太陽光パネル設置
permit | 湖のそばに桟橋を作ってもいいですか | 土地が湖に面していて自分の桟橋がほしいです。 | 湖桟橋建設
permit | 庭の木を伐採するのに許可が必要ですか | 大きな樫の木が二本家の近くにあり伐採したいです。 | 樫伐採許可 | 庭木伐採
permit | 古い納屋を解体するときの届け出 | 農家の納屋が傷んでいて秋に解体する予定です。 | 納屋解体届出
passport | 空港で緊急旅券を発行してもらえますか | パスポートを家に忘れて明日の朝に飛行機が出ます。 | 緊急旅券空港 | 空港緊急パスポート
passport | 生まれたばかりの赤ちゃんのパスポート | 生後三週間の赤ちゃんと休暇で旅行する予定です。 | 新生児パスポート | 生後三週間パスポート
passport | 結婚で姓が変わったらパスポートの変更は必要ですか | 結婚して夫の姓になりました。 | 結婚姓変更パスポート
passport | 眼鏡をかけた証明写真が受け付けられませんでした | 度の強い眼鏡をかけていて写真のときに外す必要があるか知りたいです。 | 眼鏡証明写真 | 眼鏡写真不可
eid | スマホを盗まれたときのマイナンバーカード機能の停止 | 電車でスマホを盗まれてスマホ用電子証明書が入っています。 | スマホ盗難電子証明書停止 | 盗難スマホマイナンバー
eid | 十三歳の子どものマイナンバーカード | 娘は十三歳で自分の身分証明書が必要です。 | 十三歳マイナンバーカード
eid | 住所を秘匿している人のマイナンバーカードの受け取り | 支援措置を受けていて住所を知られずにカードを受け取りたいです。 | 支援措置マイナンバーカード受取
eid | 入院中の親の代わりに委任状でマイナンバーカードを受け取る | 父が入院していて自分でカードを受け取りに行けません。 | 委任状代理受取入院 | 入院中代理人受け取り
tax | 浴室のリフォームでリフォーム減税を受けられますか | 浴室を改修しましたが業者の書類が間違っていました。 | 浴室リフォーム減税 | 浴室改修減税
tax | 暗号資産の利益にかかる税金 | 去年ビットコインを売って利益が出ましたが申告方法がわかりません。 | 暗号資産利益税金 | ビットコイン申告
tax | 別荘を貸し出したときの確定申告 | 毎年冬休みに別荘を貸し出しています。 | 別荘貸出確定申告
tax | 韓国で働いて日本に住む場合の二重課税 | 毎週国境を越えて通勤していて両方の国で税金を払っています。 | 二重課税韓国通勤
licence | スピード違反で免許停止になったらどうなりますか | スピードを出しすぎて三か月の免許停止になりました。 | スピード違反免許停止 | 免停スピード違反
licence | ブラジルの運転免許を日本の免許に切り替えたい | ブラジルの免許を持っていて日本に住んで一年になります。 | ブラジル免許切替 | 外国免許切り替えブラジル
licence | 白内障の手術後の運転免許の視力基準 | 春に白内障の手術を受けて視力が足りるか心配です。 | 白内障手術視力基準
licence | 息子の運転練習に同乗するときの決まり | 十七歳になる息子の運転練習に付き添いたいです。 | 運転練習同乗息子
jobless | 自営業をやめた後に失業手当はもらえますか | 店を閉めて今は収入がありません。 | 自営業廃業失業手当
jobless | 休業手当と雇用調整助成金について | 会社が受注不足で休業することになりました。 | 休業手当雇用調整助成金 | 受注不足休業
jobless | カフェを開業するための起業支援 | カフェを開きたくて国の支援があると聞きました。 | カフェ開業起業支援 | 起業支援カフェ
pension | スウェーデンで出稼ぎしていた期間の年金 | 七十年代にスウェーデンで出稼ぎ労働者として働いていました。 | スウェーデン出稼ぎ年金
pension | 日本に住んだ期間が短い場合の年金 | 大人になってから来日して十五年しか住んでいません。 | 居住期間短い年金 | 来日十五年年金
pension | 年金生活者の家賃補助 | 年金暮らしで今年家賃が大きく上がりました。 | 年金生活者家賃補助
school | 障害のある子どもの通学支援 | 息子は自閉症で別の学校への送迎が必要です。 | 自閉症通学支援 | 障害児送迎
school | 小学校での母語教育は受けられますか | 娘は家でスウェーデン語を話していて母語の授業を受けさせたいです。 | 母語教育小学校
"""

# -- English ------------------------------------------------------------------------

EN_SLOTS = {
    "city": "Leeds Bristol Manchester Glasgow Cardiff Belfast York Oxford Brighton Norwich",
    "country": "Sweden Denmark Germany Poland Spain Japan France India",
    "month": "January February March April May June July August September October November December",
    "n": "2 3 4 5 6 7 8 10 12",
    "child": "our son|our daughter|our first child|our second child|our baby girl",
    "building": "shed garage conservatory carport fence balcony decking",
    "age": "63 64 65 66 67",
}
EN_FILLER = """
Hello everyone!
Thanks in advance for your help.
I have searched the website but cannot find an answer.
Has anyone been through the same thing?
I phoned the helpline but waited for more than an hour.
A clear answer from you would be really helpful.
Thanks, it was sorted out in the end.
I do not really understand what applies in my case.
This is the first time I am doing this.
I hope someone can help me.
I sent an email but have not had a reply yet.
The information on the page is hard to find.
"""
EN_THEMES = """
## move
T How do I register a move to a new address in {city}?
T I have moved to {city}, do I have to change my address myself?
T How long does it take to register a change of address?
T We are moving in {month}, when should we report the move?
T Wrong address in the population register after moving to {city}
S We moved to {city} in {month} and the post still arrives at the old address.
S I reported the move {n} weeks ago but have not heard anything.
S My partner and I are moving in together and wonder how the registration works.
S Does everyone in the family have to report the move separately or is one notification enough?
S I am staying temporarily with a friend in {city} for a few months.
S Mail forwarding is ordered but the change of address does not show in the system.
A You report your move online with your digital ID no later than one week after moving.
A The change of address is usually registered within a few days and you get a letter at the new address.
## parental
T How do I apply for parental benefit for {child}?
T Can I take parental benefit part time?
T How many days of parental benefit do we have left?
T The parental benefit was not paid in {month}
S We had {child} in {month} and want to share the days equally.
S My employer wants to know how long I will be on parental leave.
S I applied for {n} days but only got paid for some of them.
S How is the income calculated if I was a student before?
S Can grandparents be given some of the days?
A You apply for parental benefit online, no later than 90 days after the first day.
A Payments are made on the 25th of every month if the application arrives in time.
## permit
T Do I need planning permission to build a {building}?
T How long does a building permit take in {city}?
T Which drawings should I send with the building permit application?
T The neighbour has built a {building} without permission
S We plan to build a {building} in the garden this summer.
S The council asked for more drawings and now {n} weeks have passed.
S Do the same rules apply to a small annex as to an ordinary extension?
S The front of the house is getting a new colour and I wonder whether that needs permission.
S Roughly what does a building permit cost for a {building}?
A The building permit application is submitted online with a site plan, elevations and a floor plan.
A The processing time is at most ten weeks from when the application is complete.
## passport
T How do I book an appointment to renew my passport?
T My passport expires in {month}, will I get a new one before the trip?
T Can I apply for a passport for {child} without both parents?
T I have lost my passport, what should I do?
S We are travelling to {country} and the passport will soon be invalid.
S There are no free appointments at the passport office in {city} for weeks.
S Do I need to bring the old passport when I collect the new one?
S The photo is taken at the office when you apply.
A Book your passport appointment online and bring valid identification.
A The passport is usually ready for collection within two weeks.
## eid
T How do I apply for a new national identity card?
T I cannot log in with my digital ID
T Can I collect the identity card at another office in {city}?
T My identity card is missing, how do I block it?
S The digital ID app stopped working after I changed phones.
S I have no local identity document and need to prove who I am.
S The card was sent to the wrong office and now I do not know where it is.
S How long does it take to get a new identity card?
A The identity card is ordered at a service office and is ready for collection after about two weeks.
A Contact the help desk of your digital ID provider if the app does not work.
## tax
T When will I get my tax refund this year?
T How do I claim a deduction for travel to work?
T I owe extra tax, how do I pay it?
T My tax return is wrong, can I correct it afterwards?
S I worked in {country} for part of the year and do not know where to pay tax.
S The tax refund has not arrived even though I filed my return in {month}.
S I sold my flat and wonder how the gain is taxed.
S My employer deducted too little tax from my salary.
A The tax return must be filed by the 31st of January, online or on paper.
A You can ask for your tax assessment to be reviewed for up to four years.
## licence
T How do I renew my driving licence?
T My driving licence is lost, how do I order a new one?
T How long does a provisional licence application take?
T Is my driving licence from {country} valid here?
S I passed the driving test but the licence has not arrived.
S The medical certificate for the licence was sent {n} weeks ago.
S The photo on the driving licence must be renewed every ten years.
S Do I need to take a new eyesight test?
A A replacement driving licence is ordered online and sent to your registered address.
A Licence applications are normally handled within four weeks.
## jobless
T How do I apply for unemployment benefit?
T I was made redundant in {month}, what should I do first?
T How much unemployment benefit will I get?
T Do I have to apply for jobs every month to get benefit?
S I have worked part time for {n} years and wonder whether I qualify.
S My contract ended and I have registered at the job centre.
S I sent my activity report late this month.
S Can I study and receive unemployment benefit at the same time?
A Register at the job centre on the first day you are out of work and then apply for benefit.
A The activity report is due by the 14th of every month.
## pension
T When can I start drawing my pension?
T How is my pension calculated if I worked in {country}?
T Can I work and draw a pension at the same time?
T My pension is lower than expected
S I turn {age} in {month} and want to know what happens to my income.
S I worked abroad for many years and wonder whether those years count.
S My husband passed away and I would like to know about survivors benefits.
S The pension forecast does not match my own records.
A You can claim the state pension from pension age and apply online or by form.
A The pension is paid every four weeks into your bank account.
## school
T How do I apply for a nursery place in {city}?
T How long is the waiting list for nursery?
T Can we change schools in the middle of the term?
T How much does nursery cost per month?
S We have moved and need a new nursery for {child}.
S Our child starts school in September and we have not heard about a place.
S My daughter wants to change to a school closer to home.
S We were offered a place but it is a long way away.
A Apply for a nursery place at least four months before you need it.
A The fee depends on household income and there is a maximum charge.
"""
EN_NEEDLES = """
move | How do I report moving abroad to Canada? | I am going to work in Canada for two years and wonder whether I will be deregistered. | moving abroad canada | ~moved abroad cnada
move | Which address applies when I sublet a student room? | I am subletting a student room while I study at university. | subletting student rooms address
move | Protected address after threats, how do I apply? | I have been threatened and want my address to be kept secret. | protecting address threatened
move | The children live alternately with both parents, where are they registered? | We are divorced and the children spend every other week with me and with their father. | children alternating parents registered
parental | Parental benefit for twins, do we get more days? | We are expecting twins this autumn and heard that you get extra days. | twin parental benefits extra | ~twinns parental benefit
parental | Can both parents be at home at the same time on parental leave? | We want to be at home together for the first weeks after the birth. | both parents home simultaneously leave
parental | Parental benefit when you are self-employed | I run a small shop as a sole trader and do not know how my income is calculated. | self-employed sole traders parental
parental | Can we transfer parental leave days to grandma? | Grandma will look after the baby for a few weeks in spring while we work. | transferring leave days grandmother grandma
permit | Do solar panels on the roof need planning permission? | We want to install solar panels on the roof of our house this summer. | solar panel roofs permission | ~solar panles roof
permit | Can I build a jetty by the lake in a shoreline protection area? | The plot is on a lake and we would like our own jetty. | building jetties lake shoreline
permit | Permission to fell trees in the garden | Two large oaks stand close to the house and we want to fell them. | felling oak trees permission
permit | Demolition permission for an old barn | The barn on the farm is derelict and will be demolished in autumn. | demolishing barns demolition
passport | Emergency passport at the airport, how does it work? | I forgot my passport at home and the flight leaves early tomorrow. | emergency passports airport | ~emergancy passport airport
passport | Passport for a newborn baby before the holiday | Our baby is three weeks old and we are going on holiday. | newborn babies passport holidays
passport | Do I need a new passport after a name change on marriage? | I took my husband's surname when we got married. | changed name marriage passport
passport | Passport photo with glasses was rejected | I wear strong glasses and wonder whether I must take them off for the photo. | glasses passport photos rejected | ~glases passport photo
eid | Block the digital ID when the phone has been stolen | My mobile was stolen on the train and my digital ID is on it. | stolen phones block digital id
eid | Identity card for a child aged thirteen | My daughter is thirteen and needs her own identification. | identity cards child thirteen
eid | Digital ID for people with a protected identity | I have protected personal details and cannot get a digital ID the normal way. | protected identities digital
eid | Collect an identity card with a power of attorney for a parent in hospital | My father is in hospital and cannot collect his card himself. | power attorney collecting card hospital
tax | Tax relief for a new bathroom renovation | We renovated the bathroom and the builder's invoice was wrong. | bathroom renovations tax relief | ~bathroom renovaton relief
tax | Tax on gains from cryptocurrency | I sold bitcoin at a profit last year and do not know how to report it. | cryptocurrencies gains taxed
tax | Renting out a holiday home and tax | We rent out our holiday cottage during the winter holidays every year. | rented holiday homes tax
tax | Double taxation when working in Ireland and living here | I commute across the border every week and pay tax in both countries. | double taxed commuting ireland
licence | Driving licence revoked for speeding, what happens now? | I drove too fast and had my licence revoked for three months. | revoking licence speed | ~revoked licence speding
licence | Exchange a Brazilian driving licence for a local one | I have a licence from Brazil and have lived here for a year. | brazilian licences exchange | ~brazilian licnce exchange
licence | Eyesight rules for driving after a cataract operation | I had a cataract operation in the spring and wonder whether my eyesight is good enough. | cataracts operation eyesight driving
licence | Supervising my son while he learns to drive | I want to supervise my son who turns seventeen when he practises driving. | supervise learner driving son
jobless | Unemployment benefit after running your own business | I closed my business and am now applying for benefit. | closed business unemployment benefits
jobless | Benefit during short-time working and temporary layoffs | My employer introduced short-time working because of a lack of orders. | short-time work layoff benefit
jobless | Start-up grant to open a café | I want to open a café and heard about support from the job centre. | startup grants cafe opening | ~start-up grant caffe
pension | Pension from Sweden for my years as a guest worker | I worked as a guest worker in Sweden in the seventies. | guest workers swedish pension
pension | Pension when you have lived here only a short time | I came here as an adult and have only lived here for fifteen years. | pensions lived short time
pension | Housing supplement for pensioners when the rent goes up | I am a pensioner and my rent has gone up a lot this year. | housing supplements pensioner rent
school | School transport for children with disabilities | Our son is autistic and needs transport to another school. | transporting autistic child school
school | Mother tongue lessons in Japanese at primary school | Our daughter speaks Japanese at home and we want her to get mother tongue teaching. | mother tongue japanese lesson
"""

RAW = {
    "sv": (SV_SLOTS, SV_FILLER, SV_THEMES, SV_NEEDLES),
    "da": (DA_SLOTS, DA_FILLER, DA_THEMES, DA_NEEDLES),
    "de": (DE_SLOTS, DE_FILLER, DE_THEMES, DE_NEEDLES),
    "ja": (JA_SLOTS, JA_FILLER, JA_THEMES, JA_NEEDLES),
    "en": (EN_SLOTS, EN_FILLER, EN_THEMES, EN_NEEDLES),
}


# -- the parsed form ----------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    titles: tuple[str, ...]
    sentences: tuple[str, ...]
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Needle:
    lang: str
    theme: str
    title: str
    detail: str
    queries: tuple[tuple[str, bool], ...]  # (query, has a typo)


@dataclass(frozen=True)
class Language:
    slots: dict[str, tuple[str, ...]]
    filler: tuple[str, ...]
    themes: dict[str, Theme]
    needles: tuple[Needle, ...]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def _parse(lang: str) -> Language:
    slots_raw, filler, themes_raw, needles_raw = RAW[lang]
    slots = {k: tuple(v.split("|") if "|" in v else v.split()) for k, v in slots_raw.items()}
    themes: dict[str, Theme] = {}
    current = ""
    parts: dict[str, dict[str, list[str]]] = {}
    for line in _lines(themes_raw):
        if line.startswith("## "):
            current = line[3:]
            parts[current] = {"T": [], "S": [], "A": []}
        else:
            parts[current][line[0]].append(line[2:])
    for key, p in parts.items():
        themes[key] = Theme(tuple(p["T"]), tuple(p["S"]), tuple(p["A"]))
    needles = []
    for line in _lines(needles_raw):
        theme, title, detail, *queries = (c.strip() for c in line.split("|"))
        labelled = tuple((q.lstrip("~"), q.startswith("~")) for q in queries)
        needles.append(Needle(lang, theme, title, detail, labelled))
    return Language(slots, tuple(_lines(filler)), themes, tuple(needles))


CORPUS: dict[str, Language] = {lang: _parse(lang) for lang in LANGS}


# -- posts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    topic: int
    lang: str
    theme: str
    type: str
    service: str
    status: str
    title: str
    body: str
    answers: str
    replies: str
    official: bool
    accepted: bool
    votes: int
    created: float
    needle: int | None = None  # index into `needles(lang)` for a planted post


_SLOT = re.compile(r"\{(\w+)\}")


def _fill(rng: random.Random, text: str, slots: dict[str, tuple[str, ...]]) -> str:
    return _SLOT.sub(lambda m: rng.choice(slots[m.group(1)]), text)


def words(lang: str, text: str) -> int:
    """Words in ``text``; Japanese, written without spaces, counts two characters a word."""
    if lang == "ja":
        return max(1, len(text) // 2)
    return len(text.split())


def _join(lang: str, sentences: list[str]) -> str:
    return ("" if lang == "ja" else " ").join(sentences)


def _text(
    rng: random.Random, language: Language, lang: str, theme: Theme, target: int, first: str = ""
) -> str:
    out = [first] if first else []
    n = words(lang, first) if first else 0
    while n < target:
        pool = theme.sentences if rng.random() < 0.7 else language.filler
        s = _fill(rng, rng.choice(pool), language.slots)
        out.append(s)
        n += words(lang, s)
    return _join(lang, out)


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r = rng.random() * sum(w for _, w in table)
    for value, w in table:
        r -= w
        if r <= 0:
            return value
    return table[-1][0]


def _title(rng: random.Random, language: Language, lang: str, theme: Theme) -> str:
    title = _fill(rng, rng.choice(theme.titles), language.slots)
    while words(lang, title) < 5:  # short ones get a little context, as people write
        title += ("" if lang == "ja" else " ") + _fill(
            rng, rng.choice(theme.titles), language.slots
        )
    if words(lang, title) > 15 and lang != "ja":
        title = " ".join(title.split()[:15])
    return title


def _post(
    rng: random.Random,
    topic: int,
    lang: str,
    theme_key: str,
    title: str | None = None,
    detail: str = "",
    needle: int | None = None,
) -> Post:
    language = CORPUS[lang]
    theme = language.themes[theme_key]
    status = _pick(rng, STATUSES)
    official = status == "official"
    accepted = status == "answered" and rng.random() < 0.6
    answers = []
    if official:
        answers.append(_fill(rng, rng.choice(theme.answers), language.slots))
    if accepted:
        answers.append(_text(rng, language, lang, theme, rng.randint(10, 40)))
    replies = [
        _text(rng, language, lang, theme, rng.randint(8, 40))
        for _ in range(rng.choice((0, 0, 1, 2, 3)))
    ]
    if status in ("open",) and rng.random() < 0.5:
        replies = []
    body = _text(rng, language, lang, theme, int(rng.triangular(20, 200, 45)), detail)
    return Post(
        topic=topic,
        lang=lang,
        theme=theme_key,
        type=_pick(rng, TYPES),
        service=SERVICES[theme_key],
        status=status,
        title=title if title is not None else _title(rng, language, lang, theme),
        body=body,
        answers=_join(lang, answers),
        replies=_join(lang, replies),
        official=official,
        accepted=accepted,
        votes=min(int(rng.expovariate(0.4)), 200),
        created=1_700_000_000.0 + topic * 60.0,
    )


def needles(lang: str) -> tuple[Needle, ...]:
    return CORPUS[lang].needles


def generate(n: int, seed: int = 11) -> list[Post]:
    """``n`` posts (topic ids 1..n) in the five languages, the needles planted at
    random places among them (so a needle is neither the newest nor the oldest)."""
    rng = random.Random(seed)
    planted = [(lang, i) for lang in LANGS for i in range(len(needles(lang)))]
    if n < len(planted):
        raise ValueError(f"at least {len(planted)} posts, for the needles")
    slots = rng.sample(range(1, n + 1), len(planted))
    at = dict(zip(slots, planted, strict=True))
    themes = list(SERVICES)
    posts = []
    for topic in range(1, n + 1):
        if topic in at:
            lang, i = at[topic]
            nd = needles(lang)[i]
            post = _post(rng, topic, lang, nd.theme, nd.title, nd.detail, i)
            post = Post(**{**post.__dict__, "needle": i})
        else:
            post = _post(rng, topic, LANGS[topic % len(LANGS)], rng.choice(themes))
        posts.append(post)
    return posts
